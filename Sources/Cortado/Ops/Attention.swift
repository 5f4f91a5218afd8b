extension Tensor {
    /// Scaled dot-product attention, `softmax(q·kᵀ · scale, masked) · v`, for `query`
    /// `[batch, heads, queries, headSize]` (self) and `key`, `value` `[batch, heads, keys, headSize]`.
    ///
    /// `keyMask` `[batch, keys]` (float32) holds 1 for a key to attend to and 0 for padding: a padded
    /// key gets weight exactly 0 (its score counts as −∞, where BERT adds −10⁴ or −10⁹, which gives
    /// the same result up to rounding). A query that sees no key at all (every key of its sample
    /// padded) gets an output of zeros and zero gradients, not NaN. `scale` defaults to
    /// `1/√headSize`.
    ///
    /// Fused: the forward pass keeps only each query's log-sum-exp of the scores, and the backward
    /// pass recomputes the probabilities from it. On OpenCL the `[queries, keys]` score matrix never
    /// reaches global memory (the flash-attention scheme); the CPU computes it per (batch, head)
    /// with `cblas_sgemm`. The mask gets no gradient.
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
        try checkFloat("attention")
        try checkSameDevice("attention", key, value)
        for tensor in [key, value] + (keyMask.map { [$0] } ?? []) { try tensor.checkFloat("attention") }
        if let keyMask { try checkSameDevice("attention", keyMask) }
        let geometry = AttentionGeometry(
            batch: batch, heads: heads, queries: shape[2], keys: keys, headSize: headSize,
            scale: scale ?? 1 / Float(headSize).squareRoot())
        if count == 0 || keys == 0 { return try emptyAttention(key: key, value: value) }

        let q = try dense().detached(), k = try key.dense().detached(), v = try value.dense().detached()
        let mask = try keyMask?.dense().detached()
        let out = try Tensor.empty(shape, on: backend)
        let logsumexp = try Tensor.empty([batch, heads, shape[2]], on: backend)
        try backend.attention(
            q.buffer, k.buffer, v.buffer, keyMask: mask?.buffer, geometry, into: out.buffer, logsumexp: logsumexp.buffer)
        let o = out.detached()
        return out.recordingGradient("attention", [self, key, value]) { gradient in
            let dOut = try gradient.dense()
            let backend = q.backend
            let dq = try Tensor.empty(q.shape, on: backend)
            let dk = try Tensor.empty(k.shape, on: backend), dv = try Tensor.empty(v.shape, on: backend)
            try backend.attentionBackward(
                q.buffer, k.buffer, v.buffer, keyMask: mask?.buffer, geometry, out: o.buffer, dOut: dOut.buffer,
                logsumexp: logsumexp.buffer, dq: dq.buffer, dk: dk.buffer, dv: dv.buffer)
            return [dq, dk, dv]
        }
    }

    /// Attention with no query, no key or empty rows: zeros, with zero gradients.
    private func emptyAttention(key: Tensor, value: Tensor) throws -> Tensor {
        let out = try Tensor.empty(shape, on: backend)
        try backend.fill(out.buffer, offset: 0, count: count, bits: 0)
        let (q, k, v) = (detached(), key.detached(), value.detached())
        return out.recordingGradient("attention", [self, key, value]) { _ in
            [try q.zerosLike(), try k.zerosLike(), try v.zerosLike()]
        }
    }
}
