/// Elementwise functions of one tensor. Cases with a payload take a scalar operand.
package enum UnaryOp: Hashable, Sendable {
    case identity, neg, exp, log, sqrt, abs, relu, sigmoid, tanh, gelu, sign, square, reciprocal
    /// `x + s`.
    case addScalar(Float)
    /// `x · s`.
    case mulScalar(Float)
    /// `xˢ`.
    case powScalar(Float)
    /// `s − x`.
    case rsubScalar(Float)
    /// `s / x`.
    case rdivScalar(Float)
    /// `max(x, s)`.
    case maxScalar(Float)
    /// `min(x, s)`.
    case minScalar(Float)
    /// `1` where `x ≥ s`, else `0`.
    case greaterEqualScalar(Float)

    /// The kernel-name stem (`unary_<name>_…`) and the scalar operand (0 where unused).
    package var kernel: (name: String, scalar: Float) {
        switch self {
        case .identity: return ("identity", 0)
        case .neg: return ("neg", 0)
        case .exp: return ("exp", 0)
        case .log: return ("log", 0)
        case .sqrt: return ("sqrt", 0)
        case .abs: return ("abs", 0)
        case .relu: return ("relu", 0)
        case .sigmoid: return ("sigmoid", 0)
        case .tanh: return ("tanh", 0)
        case .gelu: return ("gelu", 0)
        case .sign: return ("sign", 0)
        case .square: return ("square", 0)
        case .reciprocal: return ("reciprocal", 0)
        case let .addScalar(s): return ("add_scalar", s)
        case let .mulScalar(s): return ("mul_scalar", s)
        case let .powScalar(s): return ("pow_scalar", s)
        case let .rsubScalar(s): return ("rsub_scalar", s)
        case let .rdivScalar(s): return ("rdiv_scalar", s)
        case let .maxScalar(s): return ("max_scalar", s)
        case let .minScalar(s): return ("min_scalar", s)
        case let .greaterEqualScalar(s): return ("greater_equal_scalar", s)
        }
    }
}

/// Elementwise functions of two tensors (broadcast by strides). Comparisons return 1 or 0.
package enum BinaryOp: String, Hashable, Sendable, CaseIterable {
    case add, sub, mul, div, pow, maximum, minimum
    case equal, notEqual, less, lessEqual, greater, greaterEqual
    /// `dy · [x > 0]` with `a = dy`, `b = x`.
    case reluBackward
    /// `dy · y · (1 − y)` with `a = dy`, `b = y = sigmoid(x)`.
    case sigmoidBackward
    /// `dy · (1 − y²)` with `a = dy`, `b = y = tanh(x)`.
    case tanhBackward
    /// `dy · gelu′(x)` with `a = dy`, `b = x`.
    case geluBackward

    /// The kernel-name stem (`binary_<name>_…`).
    package var kernelName: String {
        switch self {
        case .notEqual: return "not_equal"
        case .lessEqual: return "less_equal"
        case .greaterEqual: return "greater_equal"
        case .reluBackward: return "relu_backward"
        case .sigmoidBackward: return "sigmoid_backward"
        case .tanhBackward: return "tanh_backward"
        case .geluBackward: return "gelu_backward"
        default: return rawValue
        }
    }
}

/// Reductions along one axis of a `[outer, n, inner]` block.
package enum ReduceOp: String, Hashable, Sendable {
    /// Σ, times a scale (1/n gives the mean).
    case sum
    /// Largest element.
    case max
    /// Smallest element.
    case min
    /// Index of the first largest element (written as `int32`).
    case argmax
}

/// A random distribution for ``Backend/random(_:seed:counter:into:offset:count:)``.
package enum Distribution: Hashable, Sendable {
    /// Uniform on `[low, high)`: element i is word i mod 4 of Philox block `counter + i / 4`.
    case uniform(low: Float, high: Float)
    /// Normal with the given mean and standard deviation (Box–Muller on two words of block `counter + i`).
    case normal(mean: Float, std: Float)
    /// `value` with probability `probability`, else 0 (a dropout mask): element i is `value` when the
    /// uniform number it would get from ``uniform(low:high:)`` on [0, 1) is below `probability`.
    case bernoulli(probability: Float, value: Float)

    /// Elements drawn from one Philox block: 4 (one per word) for uniform and Bernoulli draws, 1 for normal ones.
    package var valuesPerBlock: Int {
        switch self {
        case .uniform, .bernoulli: 4
        case .normal: 1
        }
    }

    /// How many Philox blocks (stream positions) `count` elements consume.
    package func blocks(for count: Int) -> Int {
        switch self {
        case .uniform, .bernoulli: (count + 3) / 4
        case .normal: count
        }
    }
}

/// One operand of a GEMM: a `rows × cols` matrix (per batch entry) inside a buffer, addressed by
/// strides, so a transposed view is the same buffer with swapped strides.
package struct MatrixOperand {
    /// The buffer holding the matrix.
    package let buffer: DeviceBuffer
    /// Element offset of entry `(0, 0)` of batch 0.
    package let offset: Int
    /// Element step between rows.
    package let rowStride: Int
    /// Element step between columns.
    package let columnStride: Int
    /// Element step between batch entries (0 broadcasts one matrix over the batch).
    package let batchStride: Int

    /// The element type (the buffer's).
    package var dtype: DType { buffer.dtype }

    package init(buffer: DeviceBuffer, offset: Int, rowStride: Int, columnStride: Int, batchStride: Int) {
        self.buffer = buffer
        self.offset = offset
        self.rowStride = rowStride
        self.columnStride = columnStride
        self.batchStride = batchStride
    }
}

/// `C[b] = alpha · A[b] · B[b] + beta · C[b]` for `b` in `0..<batch`; `A` is `m × k`, `B` is `k × n`,
/// `C` is `m × n` with unit column stride. With `reduceBatch`, the products are summed into one
/// `C = alpha · Σ_b A[b] · B[b] + beta · C` (C's batch stride is ignored): a weight gradient summed
/// over the samples of a batch.
package struct GemmDescriptor {
    package var batch: Int
    package var m: Int
    package var n: Int
    package var k: Int
    package var alpha: Float = 1
    package var beta: Float = 0
    package var reduceBatch = false

    package init(batch: Int, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0, reduceBatch: Bool = false) {
        self.batch = batch
        self.m = m
        self.n = n
        self.k = k
        self.alpha = alpha
        self.beta = beta
        self.reduceBatch = reduceBatch
    }

    /// Floating-point operations: `2·batch·m·n·k`.
    package var flops: Double { 2 * Double(batch) * Double(m) * Double(n) * Double(k) }
}

/// The shape of a quantised matrix product (``Backend/quantizedGemm(_:_:aScales:_:wScales:bias:into:)``).
package struct QuantizedGemmDescriptor: Hashable, Sendable {
    /// Rows of the activations and of the result.
    package var m: Int
    /// Output channels: rows of the weights, columns of the result.
    package var n: Int
    /// The reduced dimension.
    package var k: Int
    /// Values of k per scale (`k` or more: one scale per row; else a multiple of 4, as 32 for Q8_0).
    package var block: Int

    /// A product of `a[m, k]` with `w[n, k]`, one scale per row and `block` values of k.
    package init(m: Int, n: Int, k: Int, block: Int) {
        self.m = m
        self.n = n
        self.k = k
        self.block = block
    }

    /// Scales per row: ⌈k / block⌉ (1 when `block ≥ k`).
    package var blocks: Int { block >= k ? 1 : (k + block - 1) / block }

    /// Integer operations: `2·m·n·k`.
    package var operations: Double { 2 * Double(m) * Double(n) * Double(k) }
}

/// Geometry of a 2-D convolution or its `im2col` lowering (NCHW input, OIHW weights).
package struct ConvGeometry: Hashable, Sendable {
    package var batch: Int, channels: Int, height: Int, width: Int
    package var kernelHeight: Int, kernelWidth: Int
    package var strideY: Int, strideX: Int
    package var padY: Int, padX: Int
    package var dilationY: Int, dilationX: Int

    package init(
        batch: Int, channels: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int,
        strideY: Int, strideX: Int, padY: Int, padX: Int, dilationY: Int, dilationX: Int
    ) {
        self.batch = batch
        self.channels = channels
        self.height = height
        self.width = width
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideY = strideY
        self.strideX = strideX
        self.padY = padY
        self.padX = padX
        self.dilationY = dilationY
        self.dilationX = dilationX
    }

    /// Output height.
    package var outHeight: Int { (height + 2 * padY - dilationY * (kernelHeight - 1) - 1) / strideY + 1 }
    /// Output width.
    package var outWidth: Int { (width + 2 * padX - dilationX * (kernelWidth - 1) - 1) / strideX + 1 }
    /// Rows of each sample's column matrix: `channels · kernelHeight · kernelWidth`.
    package var patchSize: Int { channels * kernelHeight * kernelWidth }
    /// Columns of each sample's column matrix: `outHeight · outWidth`.
    package var outputPlane: Int { outHeight * outWidth }
}

/// The shapes of one scaled dot-product attention call: `q` and `out` hold `queries` rows of
/// `headSize` per (batch, head) pair, `k` and `v` `keys` rows, in the order ``sequenceMajor`` says
/// (dense, starting at element 0 of their buffers); the optional
/// key mask `[batch, keys]` (shared by the heads and queries of a sample), `logsumexp`
/// `[batch, heads, queries]`.
///
/// A key whose mask entry is 0 gets weight exactly 0 (its score counts as −∞; any other mask value
/// attends). A query that sees no key at all (every key masked) gets an output of zeros, a
/// `logsumexp` of −∞ and zero gradients, never NaN.
package struct AttentionGeometry: Hashable, Sendable {
    /// Samples.
    package var batch: Int
    /// Heads per sample.
    package var heads: Int
    /// Query rows per (batch, head).
    package var queries: Int
    /// Key (and value) rows per (batch, head).
    package var keys: Int
    /// Elements of one query, key or value row.
    package var headSize: Int
    /// The factor applied to `q·kᵀ` before the softmax (usually `1/√headSize`).
    package var scale: Float
    /// The memory order of `q`, `k`, `v`, `out` and their gradients: `false` for head-major,
    /// `[batch, heads, rows, headSize]`; `true` for sequence-major, `[batch, rows, heads, headSize]`,
    /// the layout of a `[batch, rows, heads · headSize]` projection, which is then read in place
    /// rather than copied into heads. `logsumexp` is `[batch, heads, queries]` either way.
    package var sequenceMajor: Bool

    /// Creates a geometry.
    package init(
        batch: Int, heads: Int, queries: Int, keys: Int, headSize: Int, scale: Float, sequenceMajor: Bool = false
    ) {
        self.batch = batch
        self.heads = heads
        self.queries = queries
        self.keys = keys
        self.headSize = headSize
        self.scale = scale
        self.sequenceMajor = sequenceMajor
    }

    /// The (batch, head) pairs: `batch · heads`.
    package var pairs: Int { batch * heads }

    /// The element offset of row `row` of `pair` in an operand with `length` rows per pair.
    package func rowOffset(pair: Int, row: Int = 0, length: Int) -> Int {
        sequenceMajor
            ? ((pair / heads * length + row) * heads + pair % heads) * headSize
            : (pair * length + row) * headSize
    }

    /// Elements from one row of a pair to the next.
    package var rowStride: Int { sequenceMajor ? heads * headSize : headSize }
}

/// Geometry of a 2-D pooling window over NCHW planes (`planes = batch · channels`).
package struct PoolGeometry: Hashable, Sendable {
    package var planes: Int, height: Int, width: Int
    package var kernelHeight: Int, kernelWidth: Int
    package var strideY: Int, strideX: Int
    package var padY: Int, padX: Int

    package init(
        planes: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int,
        strideY: Int, strideX: Int, padY: Int, padX: Int
    ) {
        self.planes = planes
        self.height = height
        self.width = width
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideY = strideY
        self.strideX = strideX
        self.padY = padY
        self.padX = padX
    }

    /// Output height.
    package var outHeight: Int { (height + 2 * padY - kernelHeight) / strideY + 1 }
    /// Output width.
    package var outWidth: Int { (width + 2 * padX - kernelWidth) / strideX + 1 }
}

/// One optimizer update of a parameter, with the scalars of the current step (the formulas of
/// PyTorch's torch.optim; see `Kernels/optimizers.cl`).
package enum UpdateRule: Sendable {
    /// SGD with momentum; state: the velocity (unused when `momentum` is 0).
    case sgd(learningRate: Float, momentum: Float, weightDecay: Float, nesterov: Bool)
    /// Adam / AdamW; state: first and second moments. `stepSize = lr / (1 − β1ᵗ)`,
    /// `biasCorrection2 = √(1 − β2ᵗ)`, `l2` is Adam's weight decay, `decay = lr·λ` AdamW's.
    case adam(beta1: Float, beta2: Float, epsilon: Float, stepSize: Float, biasCorrection2: Float, l2: Float, decay: Float)
    /// RMSProp; state: the mean square and the momentum buffer (unused when `momentum` is 0).
    case rmsProp(learningRate: Float, alpha: Float, epsilon: Float, weightDecay: Float, momentum: Float)
    /// AdaGrad; state: the sum of squared gradients.
    case adaGrad(learningRate: Float, epsilon: Float, weightDecay: Float)

    /// How many state buffers (each the parameter's size) the rule reads and writes.
    package var stateCount: Int {
        switch self {
        case .sgd, .adaGrad: return 1
        case .adam, .rmsProp: return 2
        }
    }
}

/// A place in a buffer: the buffer and an element offset (a time step of a state history).
package struct BufferSlice {
    package let buffer: DeviceBuffer
    package let offset: Int

    package init(_ buffer: DeviceBuffer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }
}

/// The recurrent cells.
package enum RecurrentCell: Sendable {
    /// Long short-term memory, PyTorch's gate order i, f, g, o.
    case lstm
    /// Gated recurrent unit, PyTorch's formulation (`n = tanh(x_n + r·(h·W_hnᵀ + b_hn))`).
    case gru

    /// Gate blocks per unit: 4 for the LSTM, 3 for the GRU.
    package var gates: Int { self == .lstm ? 4 : 3 }
}

/// One recurrent layer's pass over a batch of sequences: its shapes, and the buffers the forward
/// pass fills and the backward pass reads. Layouts (row-major):
/// - `projected` `[batch, steps, gates·hidden]`: `x·W_ihᵀ + b` for every step (one GEMM, by the caller);
/// - `recurrentWeight` `[gates·hidden, hidden]` (`W_hh`); `recurrentBias` `[gates·hidden]` (the GRU's `b_hh`);
/// - `mask` `[batch, steps]`, 1 for tokens and 0 for padding, where the state carries over;
/// - `states` `[steps + 1, batch, hidden]`: `h_0 … h_T`, and `cells` likewise for the LSTM, with
///   step 0 zeroed by the caller;
/// - `saved` `[steps, batch, 4·hidden]`: the LSTM's i, f, g, o, or the GRU's r, z, n, h_n.
package struct RecurrentSequence {
    package let cell: RecurrentCell
    package let steps: Int
    package let batch: Int
    package let hidden: Int
    package let projected: DeviceBuffer
    package let recurrentWeight: DeviceBuffer
    package let recurrentBias: DeviceBuffer?
    package let mask: DeviceBuffer?
    package let states: DeviceBuffer
    package let cells: DeviceBuffer?
    package let saved: DeviceBuffer

    package init(
        cell: RecurrentCell, steps: Int, batch: Int, hidden: Int, projected: DeviceBuffer, recurrentWeight: DeviceBuffer,
        recurrentBias: DeviceBuffer?, mask: DeviceBuffer?, states: DeviceBuffer, cells: DeviceBuffer?, saved: DeviceBuffer
    ) {
        self.cell = cell
        self.steps = steps
        self.batch = batch
        self.hidden = hidden
        self.projected = projected
        self.recurrentWeight = recurrentWeight
        self.recurrentBias = recurrentBias
        self.mask = mask
        self.states = states
        self.cells = cells
        self.saved = saved
    }

    /// Elements of one step's state, `batch · hidden`.
    package var stateSize: Int { batch * hidden }

    /// The buffers the forward pass only reads: `projected`, `recurrentWeight`, `recurrentBias`, `mask`.
    package var inputs: [DeviceBuffer?] { [projected, recurrentWeight, recurrentBias, mask] }
    /// The state histories (step 0 set by the caller): `states`, `cells`.
    package var histories: [DeviceBuffer?] { [states, cells] }

    /// The same pass over other buffers: `buffers` holds ``inputs``, then ``histories``, then `saved`
    /// (for running a `float32` implementation on widened copies).
    package func replacing(_ buffers: [DeviceBuffer?]) -> RecurrentSequence {
        RecurrentSequence(
            cell: cell, steps: steps, batch: batch, hidden: hidden, projected: buffers[0]!, recurrentWeight: buffers[1]!,
            recurrentBias: buffers[2], mask: buffers[3], states: buffers[4]!, cells: buffers[5], saved: buffers[6]!)
    }
}
