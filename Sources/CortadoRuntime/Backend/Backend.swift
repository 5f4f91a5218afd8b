/// The primitive operations every device implements; tensors compose everything else from these.
///
/// Calls enqueue work and return without waiting for it, except ``read(_:atByte:into:)`` and
/// ``synchronize()``. Every buffer carries its element type (``DeviceBuffer/dtype``); offsets and
/// counts are in elements of that type unless named in bytes. Outputs never alias inputs.
///
/// A backend runs each operation in the element types it lists in ``supports(_:_:)``, and callers
/// ask before calling (``require(_:_:_:)``): any other pairing is a thrown
/// ``CortadoError/unsupportedDType(op:dtype:device:supported:)``, never a wrong result. Floating-point
/// operations on `float16` and `bfloat16` storage compute in `float32` and round on store.
package protocol Backend: AnyObject, Sendable {
    /// The device this backend runs.
    var device: Device { get }
    /// The caching allocator that owns the device's buffers.
    var allocator: CachingAllocator { get }

    /// Whether this backend runs `operation` on floating-point (or, for ``BackendOperation/copy``
    /// and ``BackendOperation/fill``, any) operands of element type `dtype`.
    func supports(_ operation: BackendOperation, _ dtype: DType) -> Bool

    /// Copies host bytes into `buffer` at byte offset `atByte` (the host memory may be reused on return).
    func write(_ bytes: UnsafeRawBufferPointer, to buffer: DeviceBuffer, atByte: Int) throws
    /// Copies bytes from `buffer` into host memory, waiting for queued work that writes it.
    func read(_ buffer: DeviceBuffer, atByte: Int, into bytes: UnsafeMutableRawBufferPointer) throws
    /// Host memory of `bytes` bytes for repeated transfers to and from this device: pinned where
    /// the device's driver moves pinned memory faster (OpenCL), ordinary memory elsewhere.
    func makeHostStaging(bytes: Int) throws -> HostStaging
    /// Sets `count` elements from `offset` to `value` converted to the buffer's element type (see
    /// ``DType/bitPattern(of:)``).
    func fill(_ buffer: DeviceBuffer, offset: Int, count: Int, value: Double) throws
    /// Copies the elements of `source` into `destination` (same shape, any strides), converting
    /// when their element types differ: floats round to nearest even, floats become integers
    /// toward zero with saturation (NaN as 0), integers narrow with saturation.
    func copy(_ source: StridedView, to destination: StridedView) throws

    /// `out = op(x)` elementwise (`out` has `x`'s shape).
    func unary(_ op: UnaryOp, _ x: StridedView, into out: StridedView) throws
    /// `out = op(a, b)` elementwise; `a` and `b` are broadcast to `out`'s shape by their strides.
    func binary(_ op: BinaryOp, _ a: StridedView, _ b: StridedView, into out: StridedView) throws

    /// Reduces the contiguous block `x[outer, n, inner]` along `n` into `out[outer, inner]`
    /// (multiplying sums by `scale`; `argmax` writes `int32`).
    func reduce(
        _ op: ReduceOp, _ x: DeviceBuffer, offset: Int, outer: Int, n: Int, inner: Int,
        scale: Float, into out: DeviceBuffer
    ) throws
    /// `out[o, i] = x[o, index[o, i], i]` for contiguous `x[outer, n, inner]` and `int32` indices.
    func gather(
        _ x: DeviceBuffer, indices: DeviceBuffer, outer: Int, n: Int, inner: Int, into out: DeviceBuffer
    ) throws
    /// `out[o, j, i] = j == index[o, i] ? values[o, i] : 0` (the adjoint of ``gather``).
    func scatter(
        _ values: DeviceBuffer, indices: DeviceBuffer, outer: Int, n: Int, inner: Int,
        into out: DeviceBuffer
    ) throws

    /// `C = alpha · A · B + beta · C` per batch entry.
    func gemm(_ descriptor: GemmDescriptor, _ a: MatrixOperand, _ b: MatrixOperand, _ c: MatrixOperand) throws

    /// Softmax (or log-softmax) of contiguous `x[outer, n, inner]` along `n`.
    func softmax(
        _ x: DeviceBuffer, outer: Int, n: Int, inner: Int, log: Bool, into out: DeviceBuffer
    ) throws
    /// The input gradient of softmax (or log-softmax) given its output `y` and output gradient `dy`.
    func softmaxBackward(
        _ y: DeviceBuffer, _ dy: DeviceBuffer, outer: Int, n: Int, inner: Int, log: Bool,
        into dx: DeviceBuffer
    ) throws

    /// Layer normalisation over the last axis of contiguous `x[rows, width]`:
    /// `y = (x − mean) · rstd · weight + bias` with `rstd = 1 / √(var + epsilon)` (biased variance).
    /// Writes each row's `mean` and `rstd` (`[rows]`) for ``layerNormBackward``. An absent `weight`
    /// counts as ones, an absent `bias` as zeros.
    func layerNorm(
        _ x: DeviceBuffer, weight: DeviceBuffer?, bias: DeviceBuffer?, rows: Int, width: Int, epsilon: Float,
        into y: DeviceBuffer, mean: DeviceBuffer, rstd: DeviceBuffer
    ) throws
    /// The gradients of ``layerNorm`` from its saved `mean` and `rstd`: `dx` always, `dWeight` and
    /// `dBias` (`[width]`) when given, each summed over rows in a fixed order (blocks of rows, then
    /// the blocks' partial sums), so the result does not depend on scheduling.
    func layerNormBackward(
        _ x: DeviceBuffer, weight: DeviceBuffer?, mean: DeviceBuffer, rstd: DeviceBuffer, dy: DeviceBuffer,
        rows: Int, width: Int, dx: DeviceBuffer, dWeight: DeviceBuffer?, dBias: DeviceBuffer?
    ) throws

    /// Scaled dot-product attention `out = softmax(q·kᵀ · scale, masked) · v` per (batch, head),
    /// without storing the probabilities: also writes each query's `logsumexp` `[batch, heads,
    /// queries]` (natural log of the masked softmax denominator, scores scaled) for the backward
    /// pass. See ``AttentionGeometry`` for the layouts and the mask.
    func attention(
        _ q: DeviceBuffer, _ k: DeviceBuffer, _ v: DeviceBuffer, keyMask: DeviceBuffer?, _ geometry: AttentionGeometry,
        into out: DeviceBuffer, logsumexp: DeviceBuffer
    ) throws
    /// The gradients `dq`, `dk`, `dv` of ``attention`` from its `out`, `logsumexp` and the output
    /// gradient `dOut`; the probabilities are recomputed from `q`, `k` and `logsumexp`.
    func attentionBackward(
        _ q: DeviceBuffer, _ k: DeviceBuffer, _ v: DeviceBuffer, keyMask: DeviceBuffer?, _ geometry: AttentionGeometry,
        out: DeviceBuffer, dOut: DeviceBuffer, logsumexp: DeviceBuffer, dq: DeviceBuffer, dk: DeviceBuffer, dv: DeviceBuffer
    ) throws

    /// Unfolds NCHW `x` into one column matrix per sample, `cols[batch, patchSize, outHeight·outWidth]`
    /// (zeros where padded), so that a convolution is a batched GEMM whose output is NCHW.
    func im2col(_ x: DeviceBuffer, _ geometry: ConvGeometry, into cols: DeviceBuffer) throws
    /// Folds `cols` back into NCHW `x`, summing overlapping patches (the adjoint of ``im2col``).
    func col2im(_ cols: DeviceBuffer, _ geometry: ConvGeometry, into x: DeviceBuffer) throws

    /// Max pooling; `indices` receives the position (`y·width + x`) of each maximum in its plane.
    func maxPool(
        _ x: DeviceBuffer, _ geometry: PoolGeometry, into y: DeviceBuffer, indices: DeviceBuffer
    ) throws
    /// Routes each output gradient to the input position recorded in `indices`, summing collisions.
    func maxPoolBackward(
        _ dy: DeviceBuffer, indices: DeviceBuffer, _ geometry: PoolGeometry, into dx: DeviceBuffer
    ) throws
    /// Average pooling (padding counts as zeros in the window, as PyTorch's default).
    func avgPool(_ x: DeviceBuffer, _ geometry: PoolGeometry, into y: DeviceBuffer) throws
    /// The input gradient of average pooling.
    func avgPoolBackward(_ dy: DeviceBuffer, _ geometry: PoolGeometry, into dx: DeviceBuffer) throws

    /// Fills `count` elements with Philox-4x32-10 random numbers for stream position `counter`, so
    /// every device produces the same numbers for the same seed and counter.
    func random(
        _ distribution: Distribution, seed: UInt64, counter: UInt64, into buffer: DeviceBuffer,
        offset: Int, count: Int
    ) throws

    /// `out[i, :] = table[indices[i] − firstRow, :]` for a contiguous `table[tableRows, width]`
    /// holding rows `firstRow ..< firstRow + tableRows` of an embedding table (all of it when
    /// `firstRow` is 0, one segment of it otherwise) and `count` `int32` indices; the rows of
    /// `out` whose index lies outside that range become zeros, or keep their values when
    /// `keepingOthers` (so each segment of a table fills its own rows).
    func gatherRows(
        _ table: DeviceBuffer, firstRow: Int, tableRows: Int, indices: DeviceBuffer, count: Int, width: Int,
        into out: DeviceBuffer, keepingOthers: Bool
    ) throws
    /// `out[r, :] = Σ_{i : indices[i] = firstRow + r} values[i, :]` for `out[tableRows, width]`
    /// (rows `firstRow ..< firstRow + tableRows` of the whole table's gradient), summed in index
    /// order so the result is deterministic (the adjoint of ``gatherRows(_:firstRow:tableRows:indices:count:width:into:keepingOthers:)``).
    func scatterAddRows(
        _ values: DeviceBuffer, indices: DeviceBuffer, count: Int, width: Int, firstRow: Int, tableRows: Int,
        into out: DeviceBuffer
    ) throws

    /// Per-row cross-entropy of `logits[rows, classes]` against `int32` labels, with the softmax
    /// probabilities kept for the backward pass (a label out of range gives NaN).
    func crossEntropy(
        _ logits: DeviceBuffer, labels: DeviceBuffer, rows: Int, classes: Int, losses: DeviceBuffer,
        probabilities: DeviceBuffer
    ) throws
    /// `dlogits = (probabilities − onehot(labels)) · dloss[row]`.
    func crossEntropyBackward(
        _ probabilities: DeviceBuffer, labels: DeviceBuffer, dloss: DeviceBuffer, rows: Int, classes: Int,
        into dlogits: DeviceBuffer
    ) throws

    /// Runs a recurrent layer over every step of `sequence`: fills its states, saved activations and
    /// `outputs` `[batch, steps, hidden]`. Step by step, one GEMM `h·W_hhᵀ` and one fused gate kernel
    /// (or one kernel doing both, see ``RecurrentSchedule``), without waiting on the host.
    func recurrentForward(_ sequence: RecurrentSequence, outputs: DeviceBuffer) throws
    /// Backpropagation through time from `dOutputs` `[batch, steps, hidden]`: writes the gradients
    /// of the gate pre-activations step-major into `dGatesByStep` `[steps, batch, gates·hidden]`
    /// (toward the recurrent product, so `∂W_hh` is one GEMM over all steps) and batch-major into
    /// `dProjected` `[batch, steps, gates·hidden]` (the gradient of `projected`).
    func recurrentBackward(
        _ sequence: RecurrentSequence, dOutputs: DeviceBuffer, dGatesByStep: DeviceBuffer, dProjected: DeviceBuffer
    ) throws

    /// Updates `count` elements of `parameter` in place from `gradient` and the rule's state buffers.
    func update(
        _ rule: UpdateRule, parameter: DeviceBuffer, gradient: DeviceBuffer, state: [DeviceBuffer], count: Int
    ) throws

    /// The int8 matrix product of quantised inference, with int32 sums per block of k:
    /// `out[i, j] = Σ_b (Σ_{p in block b} a[i, p] · w[j, p]) · aScales[i, b] · wScales[j, b] + bias[j]`
    /// for contiguous int8 `a[m, k]` and `w[n, k]` (one output channel per row), float32 scales
    /// `[m, blocks]` and `[n, blocks]`, optional float32 `bias[n]`, and float32 `out[m, n]`.
    func quantizedGemm(
        _ descriptor: QuantizedGemmDescriptor, _ a: DeviceBuffer, aScales: DeviceBuffer, _ w: DeviceBuffer,
        wScales: DeviceBuffer, bias: DeviceBuffer?, into out: DeviceBuffer
    ) throws
    /// Symmetric int8 quantisation of contiguous float32 `x[rows, width]` per row and block of
    /// `block` values (`block ≥ width`: one block per row): `scale = max |x| / 127`,
    /// `q = round(x / scale)` to nearest even, in [−127, 127]; an all-zero block has scale 0.
    /// Writes int8 `q[rows, width]` and float32 `scales[rows, blocks]`. With `fixed` (float32
    /// `[blocks]`, static scales from calibration) block `b` of every row uses `fixed[b]` instead,
    /// values past ±127 · scale saturate, and a block holding a NaN gets a NaN scale. With
    /// `multipliers` (float32 `[width]`, SmoothQuant's smoothing) `x[r, p] · multipliers[p]` is
    /// quantised in place of `x[r, p]`.
    func quantizeRows(
        _ x: DeviceBuffer, rows: Int, width: Int, block: Int, fixed: DeviceBuffer?, multipliers: DeviceBuffer?,
        into q: DeviceBuffer, scales: DeviceBuffer
    ) throws

    /// Waits until all queued work has finished.
    func synchronize() throws
}

/// The operations of ``Backend``, for asking which element types a backend runs each in
/// (as ggml's `supports_op`).
package enum BackendOperation: String, Sendable, CaseIterable {
    case fill, copy, unary, binary, reduce, gather, scatter, gemm, softmax, layerNorm, attention
    case im2col, pooling, random, gatherRows, scatterAddRows, crossEntropy, recurrent, update
    /// ``Backend/quantizedGemm(_:_:aScales:_:wScales:bias:into:)``, asked for its int8 operands.
    case quantizedGemm
    /// ``Backend/quantizeRows(_:rows:width:block:fixed:multipliers:into:scales:)``, asked for its float input.
    case quantizeRows
}

extension Backend {
    /// `out[i, :] = table[indices[i], :]` for a contiguous `table[tableRows, width]` and `count`
    /// `int32` indices (an index outside the table gives a row of zeros).
    package func gatherRows(
        _ table: DeviceBuffer, tableRows: Int, indices: DeviceBuffer, count: Int, width: Int, into out: DeviceBuffer
    ) throws {
        try gatherRows(
            table, firstRow: 0, tableRows: tableRows, indices: indices, count: count, width: width, into: out,
            keepingOthers: false)
    }

    /// `out[r, :] = Σ_{i : indices[i] = r} values[i, :]` for `out[tableRows, width]`, summed in index
    /// order (the adjoint of ``gatherRows(_:tableRows:indices:count:width:into:)``).
    package func scatterAddRows(
        _ values: DeviceBuffer, indices: DeviceBuffer, count: Int, width: Int, tableRows: Int, into out: DeviceBuffer
    ) throws {
        try scatterAddRows(values, indices: indices, count: count, width: width, firstRow: 0, tableRows: tableRows, into: out)
    }
}

extension Backend {
    /// Throws unless the backend runs `operation` in `dtype`; `name` is the user-facing op in the message.
    package func require(_ operation: BackendOperation, _ dtype: DType, _ name: String) throws {
        guard supports(operation, dtype) else {
            throw CortadoError.unsupportedDType(
                op: name, dtype: dtype, device: device.id, supported: DType.allCases.filter { supports(operation, $0) })
        }
    }
}

extension Backend {
    /// Runs a `float32` implementation on 16-bit float buffers: each `float16` or `bfloat16` buffer
    /// is replaced by a `float32` copy of the whole buffer, `body` runs on the copies, and the
    /// buffers it writes are rounded back once. `float32` and integer buffers (indices) pass through.
    ///
    /// The fallback for operations without a kernel of their own per storage type: it computes
    /// exactly what the `float32` operation computes, at the cost of the copies' memory traffic.
    /// - Parameters:
    ///   - inputs: the buffers the operation only reads (`nil` for absent optional operands).
    ///   - updating: buffers it reads and writes, or writes only in part (a state history whose
    ///     first step the caller set): widened before and rounded back after.
    ///   - outputs: buffers it overwrites entirely: rounded back after, never widened.
    ///   - body: the `float32` operation, given `inputs`, `updating` and `outputs` in that order.
    package func widening(
        _ inputs: [DeviceBuffer?], updating: [DeviceBuffer?] = [], into outputs: [DeviceBuffer?],
        _ body: (_ buffers: [DeviceBuffer?]) throws -> Void
    ) throws {
        func whole(_ buffer: DeviceBuffer) -> StridedView { StridedView(contiguous: buffer, shape: [buffer.count]) }
        var wide: [DeviceBuffer?] = []
        for (index, buffer) in (inputs + updating + outputs).enumerated() {
            guard let buffer, buffer.dtype.isHalf else {
                wide.append(buffer)
                continue
            }
            let copy = try allocator.allocate(count: buffer.count, dtype: .float32)
            if index < inputs.count + updating.count { try self.copy(whole(buffer), to: whole(copy)) }
            wide.append(copy)
        }
        try body(wide)
        let written = inputs.count..<(inputs.count + updating.count + outputs.count)
        for (buffer, copy) in zip((updating + outputs), wide[written]) {
            guard let buffer, let copy, copy !== buffer else { continue }
            try self.copy(whole(copy), to: whole(buffer))
        }
    }
}
