extension Tensor {
    /// The elements in row-major order as `Float`s (waits for pending work on the device): a
    /// `float32` tensor bit for bit, `float16` and `bfloat16` widened exactly.
    /// - Throws: ``CortadoError/unsupportedDType(op:dtype:device:supported:)`` for integer tensors
    ///   (read them with ``toIntArray()``).
    public func toArray() throws -> [Float] {
        switch dtype {
        case .float32:
            return try readElements(Float.self)
        case .float16, .bfloat16:
            let bits = try readElements(UInt16.self)
            return [Float](unsafeUninitializedCapacity: bits.count) { storage, initialized in
                bits.withUnsafeBufferPointer { source in
                    if let from = source.baseAddress, let to = storage.baseAddress {
                        HalfConversion.widen(from, into: to, count: source.count, from: dtype)
                    }
                }
                initialized = bits.count
            }
        case .int8, .uint8, .int32, .int64:
            throw CortadoError.unsupportedDType(
                op: "toArray", dtype: dtype, device: device.id, supported: DType.allCases.filter(\.isFloatingPoint))
        }
    }

    /// The elements of an integer tensor in row-major order as `Int32`s (`int8` and `uint8` widened).
    /// - Throws: for floating-point tensors (read them with ``toArray()``), and for an `int64`
    ///   element outside `Int32`'s range (the message gives its position).
    public func toIntArray() throws -> [Int32] {
        switch dtype {
        case .int32: return try readElements(Int32.self)
        case .int8: return try readElements(Int8.self).map(Int32.init)
        case .uint8: return try readElements(UInt8.self).map(Int32.init)
        case .int64:
            return try readElements(Int64.self).enumerated().map { index, value in
                guard let narrow = Int32(exactly: value) else {
                    throw CortadoError.invalidArgument("toIntArray: element \(index) is \(value), outside the range of Int32")
                }
                return narrow
            }
        case .float32, .float16, .bfloat16:
            throw CortadoError.unsupportedDType(
                op: "toIntArray", dtype: dtype, device: device.id, supported: DType.allCases.filter { !$0.isFloatingPoint })
        }
    }

    /// The elements exactly as stored, in row-major order.
    /// - Throws: ``CortadoError/dtypeMismatch(op:dtypes:)`` unless `T` stores this tensor's element type.
    public func elements<T: TensorElement>(as type: T.Type) throws -> [T] {
        guard T.dtype == dtype else { throw CortadoError.dtypeMismatch(op: "elements(as: \(T.self))", dtypes: [dtype, T.dtype]) }
        return try readElements(T.self)
    }

    /// The elements' bytes as stored (little-endian on every supported machine), in row-major order:
    /// what a file of this element type holds.
    package func storedBytes() throws -> [UInt8] {
        let source = isContiguous ? self : try contiguous()
        let bytes = count * dtype.byteSize
        guard bytes > 0 else { return [] }
        return try [UInt8](unsafeUninitializedCapacity: bytes) { storage, initialized in
            try source.backend.read(source.buffer, atByte: source.offset * dtype.byteSize, into: UnsafeMutableRawBufferPointer(storage))
            initialized = bytes
        }
    }

    /// The single element of a one-element floating-point tensor.
    public func item() throws -> Float {
        guard count == 1 else {
            throw CortadoError.invalidArgument("item() needs a tensor with one element, not shape \(shape)")
        }
        return try toArray()[0]
    }

    /// The elements' bytes reinterpreted as `Element`s (whose size is the element type's width).
    private func readElements<Element>(_ type: Element.Type) throws -> [Element] {
        precondition(MemoryLayout<Element>.stride == dtype.byteSize, "reading \(dtype) as \(Element.self)")
        let source = isContiguous ? self : try contiguous()
        let count = self.count
        guard count > 0 else { return [] }
        return try [Element](unsafeUninitializedCapacity: count) { storage, initialized in
            try source.backend.read(
                source.buffer, atByte: source.offset * dtype.byteSize, into: UnsafeMutableRawBufferPointer(storage))
            initialized = count
        }
    }
}
