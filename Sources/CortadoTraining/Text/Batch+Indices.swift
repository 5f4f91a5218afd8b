import Cortado

extension Batch {
    /// `inputs` as an `int32` tensor of shape `inputShape` on `device` (the default device if `nil`):
    /// the token ids of an encoded text batch, as an `Embedding` layer takes them.
    ///
    /// Throws if an input is not a whole number in the `Int32` range (the batch does not hold ids).
    public func indexTensor(device: Device? = nil) throws -> Tensor {
        var indices: [Int32] = []
        indices.reserveCapacity(inputs.count)
        for (position, value) in inputs.enumerated() {
            guard let index = Int32(exactly: value) else {
                throw DataError.invalidRequest(
                    "input \(position) of the batch is \(value), not a whole number in the Int32 range, so it cannot be an index (token id)")
            }
            indices.append(index)
        }
        return try Tensor(indices: indices, shape: inputShape, device: device)
    }
}
