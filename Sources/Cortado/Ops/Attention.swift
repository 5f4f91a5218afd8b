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
    ///
    /// Query, key and value that view `[batch, length, heads, headSize]` memory permuted to
    /// `[batch, heads, length, headSize]` (the heads of a `[batch, length, hidden]` projection, as
    /// ``permuted(_:)`` gives them) are read in place, and the output and gradients come back in
    /// that layout; other operands are first copied to dense head-major memory.
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
        try checkSameDevice("attention", key, value)
        try requireSupport(.attention, "attention", key, value)
        try keyMask?.requireMask("attention")
        if let keyMask { try checkSameDevice("attention", keyMask) }
        let sequenceMajor = isSequenceMajorView && key.isSequenceMajorView && value.isSequenceMajorView
        let geometry = AttentionGeometry(
            batch: batch, heads: heads, queries: shape[2], keys: keys, headSize: headSize,
            scale: scale ?? 1 / Float(headSize).squareRoot(), sequenceMajor: sequenceMajor)
        if count == 0 || keys == 0 { return try emptyAttention(key: key, value: value) }

        let (q, k, v) = sequenceMajor
            ? (detached(), key.detached(), value.detached())
            : (try dense().detached(), try key.dense().detached(), try value.dense().detached())
        let mask = try keyMask?.dense().detached()
        let out = try Tensor.attentionOperand(shape, dtype: dtype, sequenceMajor: sequenceMajor, on: backend)
        let logsumexp = try Tensor.empty([batch, heads, shape[2]], on: backend)
        try backend.attention(
            q.buffer, k.buffer, v.buffer, keyMask: mask?.buffer, geometry, into: out.buffer, logsumexp: logsumexp.buffer)
        let o = out.detached()
        return out.recordingGradient("attention", [self, key, value]) { gradient in
            let dOut = try gradient.inAttentionLayout(sequenceMajor: sequenceMajor)
            let backend = q.backend
            let dq = try Tensor.attentionOperand(q.shape, dtype: q.dtype, sequenceMajor: sequenceMajor, on: backend)
            let dk = try Tensor.attentionOperand(k.shape, dtype: q.dtype, sequenceMajor: sequenceMajor, on: backend)
            let dv = try Tensor.attentionOperand(v.shape, dtype: q.dtype, sequenceMajor: sequenceMajor, on: backend)
            try backend.attentionBackward(
                q.buffer, k.buffer, v.buffer, keyMask: mask?.buffer, geometry, out: o.buffer, dOut: dOut.buffer,
                logsumexp: logsumexp.buffer, dq: dq.buffer, dk: dk.buffer, dv: dv.buffer)
            return [dq, dk, dv]
        }
    }

    /// Whether this `[batch, heads, length, headSize]` tensor views dense `[batch, length, heads,
    /// headSize]` memory that starts at element 0 of its buffer.
    private var isSequenceMajorView: Bool {
        offset == 0 && Layout.isContiguous(
            shape: [shape[0], shape[2], shape[1], shape[3]], strides: [strides[0], strides[2], strides[1], strides[3]])
    }

    /// A new `[batch, heads, length, headSize]` tensor, viewing `[batch, length, heads, headSize]`
    /// memory when `sequenceMajor`.
    private static func attentionOperand(_ shape: [Int], dtype: DType, sequenceMajor: Bool, on backend: any Backend) throws -> Tensor {
        guard sequenceMajor else { return try empty(shape, dtype: dtype, on: backend) }
        let memory = try empty([shape[0], shape[2], shape[1], shape[3]], dtype: dtype, on: backend)
        return memory.makeView(
            shape: shape, strides: [memory.strides[0], memory.strides[2], memory.strides[1], memory.strides[3]], offset: 0)
    }

    /// This tensor in the memory order the attention kernels read: itself when it already is.
    private func inAttentionLayout(sequenceMajor: Bool) throws -> Tensor {
        guard sequenceMajor else { return try dense() }
        if isSequenceMajorView { return self }
        return try permuted([0, 2, 1, 3]).contiguous().permuted([0, 2, 1, 3])
    }

    /// Attention with no query, no key or empty rows: zeros, with zero gradients.
    private func emptyAttention(key: Tensor, value: Tensor) throws -> Tensor {
        let out = try Tensor.empty(shape, dtype: dtype, on: backend)
        try backend.fill(out.buffer, offset: 0, count: count, value: 0)
        let (q, k, v) = (detached(), key.detached(), value.detached())
        return out.recordingGradient("attention", [self, key, value]) { _ in
            [try q.zerosLike(), try k.zerosLike(), try v.zerosLike()]
        }
    }
}
