extension Tensor {
    /// Scaled dot-product attention, `softmax(q·kᵀ · scale + maskBias) · v`, for `query`
    /// `[batch, heads, queries, headSize]` (self) and `key`, `value` `[batch, heads, keys, headSize]`.
    ///
    /// `keyMask` `[batch, keys]` holds 1 for a key to attend to and 0 for padding; a padded key gets
    /// no weight (its score is pushed to −10⁹ before the softmax, as BERT does with the additive
    /// mask). `scale` defaults to `1/√headSize`. Every query should see at least one unmasked key.
    public func scaledDotProductAttention(
        key: Tensor, value: Tensor, keyMask: Tensor? = nil, scale: Float? = nil
    ) throws -> Tensor {
        guard rank == 4, key.rank == 4, value.rank == 4 else {
            throw CortadoError.shapeMismatch(
                "attention: query, key and value must be [batch, heads, length, headSize], got \(shape), \(key.shape), \(value.shape)")
        }
        let (batch, heads, headSize) = (shape[0], shape[1], shape[3])
        let keys = key.shape[2]
        guard key.shape == [batch, heads, keys, headSize], value.shape == [batch, heads, keys, headSize] else {
            throw CortadoError.shapeMismatch(
                "attention: key \(key.shape) and value \(value.shape) must be [\(batch), \(heads), keys, \(headSize)] for query \(shape)")
        }
        if let keyMask, keyMask.shape != [batch, keys] {
            throw CortadoError.shapeMismatch("attention: keyMask has shape \(keyMask.shape), expected [\(batch), \(keys)]")
        }
        let factor = scale ?? 1 / Float(headSize).squareRoot()
        var scores = try matmul(key.transposed()) * factor
        if let keyMask {
            // 0 where attended, −10⁹ where padded; broadcast over heads and queries.
            let bias = try (keyMask - 1) * 1e9
            scores = try scores + bias.reshaped([batch, 1, 1, keys])
        }
        return try scores.softmax(axis: -1).matmul(value)
    }
}
