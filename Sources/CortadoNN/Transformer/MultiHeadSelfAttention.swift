/// Multi-head self-attention: project `x` `[batch, length, hidden]` to queries, keys and values,
/// attend within each of `heads` heads (``Tensor/scaledDotProductAttention(key:value:keyMask:scale:)``),
/// and project the joined heads back to `hidden`.
///
/// - Note: Vaswani et al., "Attention Is All You Need", 2017.
public final class MultiHeadSelfAttention: Module {
    /// Query projection, `[heads·headSize, hidden]` weight.
    public let query: Linear
    /// Key projection.
    public let key: Linear
    /// Value projection.
    public let value: Linear
    /// Output projection of the joined heads.
    public let output: Linear
    /// Number of heads.
    public let heads: Int
    /// Width of each head (`hidden / heads` unless given: a model whose heads were pruned keeps
    /// the original width with fewer heads).
    public let headSize: Int
    /// Training or evaluation mode (no effect: attention probabilities are not dropped).
    public var isTraining = true

    /// Attention over `hidden`-wide states with `heads` heads of `headSize` dimensions each
    /// (default `hidden / heads`), initialised as BERT does (`N(0, initializerRange)` weights, zero
    /// biases). The queries, keys and values are `heads·headSize` wide; the output projection
    /// brings the joined heads back to `hidden`.
    public init(
        hidden: Int, heads: Int, headSize: Int? = nil, initializerRange: Float = 0.02, device: Device? = nil,
        generator: RandomGenerator? = nil
    ) throws {
        guard heads > 0, hidden > 0, headSize != nil || hidden % heads == 0 else {
            throw CortadoError.invalidArgument("MultiHeadSelfAttention: hidden \(hidden) must be a positive multiple of heads \(heads)")
        }
        let size = headSize ?? hidden / heads
        guard size > 0 else { throw CortadoError.invalidArgument("MultiHeadSelfAttention: headSize \(size) must be positive") }
        let initializer = Initializer.bert(range: initializerRange)
        func projection(_ inputs: Int, _ outputs: Int) throws -> Linear {
            try Linear(inputs, outputs, weightInitializer: initializer, device: device, generator: generator)
        }
        query = try projection(hidden, heads * size)
        key = try projection(hidden, heads * size)
        value = try projection(hidden, heads * size)
        output = try projection(heads * size, hidden)
        self.heads = heads
        self.headSize = size
    }

    /// The four projections.
    public var children: [(name: String, module: any Module)] {
        [("query", query), ("key", key), ("value", value), ("output", output)]
    }

    /// Attention with every position visible.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try callAsFunction(x, mask: nil)
    }

    /// Attention of `x` `[batch, length, hidden]` to itself; `mask` `[batch, length]` is 1 for real
    /// tokens and 0 for padding, which no position attends to.
    public func callAsFunction(_ x: Tensor, mask: Tensor?) throws -> Tensor {
        guard x.rank == 3 else {
            throw CortadoError.shapeMismatch("MultiHeadSelfAttention: input must be [batch, length, hidden], got \(x.shape)")
        }
        let (batch, length) = (x.shape[0], x.shape[1])
        // Views, not copies: attention reads the heads of each projection in place and returns
        // its output in the same [batch, length, heads, headSize] memory, so joining them is free.
        func split(_ projected: Tensor) throws -> Tensor {
            try projected.reshaped([batch, length, heads, headSize]).permuted([0, 2, 1, 3])
        }
        let attended = try split(query(x)).scaledDotProductAttention(key: split(key(x)), value: split(value(x)), keyMask: mask)
        let joined = try attended.permuted([0, 2, 1, 3]).contiguous().reshaped([batch, length, heads * headSize])
        return try output(joined)
    }
}
