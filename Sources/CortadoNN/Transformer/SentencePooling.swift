extension Tensor {
    /// The mean of `[batch, length, hidden]` states over the real tokens: `Σ mask·x / Σ mask` per
    /// sample, `[batch, hidden]` (sentence-transformers' mean pooling). `mask` is `[batch, length]`.
    public func meanPooled(mask: Tensor) throws -> Tensor {
        guard rank == 3, mask.shape == [shape[0], shape[1]] else {
            throw CortadoError.shapeMismatch("meanPooled: states \(shape) and mask \(mask.shape) must be [batch, length, hidden] and [batch, length]")
        }
        let weights = try mask.to(dtype: dtype).unsqueezed(axis: 2)                  // [batch, length, 1]
        let counts = try weights.sum(axes: [1]).clamped(min: 1e-9)                   // [batch, 1]
        return try (self * weights).sum(axes: [1]) / counts
    }

    /// Each row of the last axis divided by its Euclidean norm (at least `epsilon`), as
    /// `torch.nn.functional.normalize`.
    public func l2Normalized(epsilon: Float = 1e-12) throws -> Tensor {
        guard rank >= 1 else { throw CortadoError.shapeMismatch("l2Normalized: needs at least one axis") }
        let norms = try square().sum(axes: [rank - 1], keepingDims: true).sqrt().clamped(min: epsilon)
        return try self / norms
    }
}
