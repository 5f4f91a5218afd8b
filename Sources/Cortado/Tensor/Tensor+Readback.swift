extension Tensor {
    /// The elements in row-major order (waits for pending work on the device).
    public func toArray() throws -> [Float] {
        try checkFloat("toArray")
        return try readElements(Float.self)
    }

    /// The `int32` elements in row-major order.
    public func toIntArray() throws -> [Int32] {
        guard dtype == .int32 else { throw CortadoError.unsupportedDType(op: "toIntArray", dtype: dtype) }
        return try readElements(Int32.self)
    }

    /// The single element of a one-element tensor.
    public func item() throws -> Float {
        guard count == 1 else {
            throw CortadoError.invalidArgument("item() needs a tensor with one element, not shape \(shape)")
        }
        return try toArray()[0]
    }

    private func readElements<Element>(_ type: Element.Type) throws -> [Element] {
        let source = isContiguous ? self : try contiguous()
        let count = self.count
        guard count > 0 else { return [] }
        return try [Element](unsafeUninitializedCapacity: count) { storage, initialized in
            try source.backend.read(
                source.buffer, atByte: source.offset * 4, into: UnsafeMutableRawBufferPointer(storage))
            initialized = count
        }
    }
}
