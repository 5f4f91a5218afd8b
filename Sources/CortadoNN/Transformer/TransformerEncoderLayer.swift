/// One BERT encoder block: self-attention and a GELU feed-forward network, each followed by
/// dropout, a residual connection and LayerNorm (post-LayerNorm, as BERT), or with LayerNorm
/// applied before each sub-layer instead (`preLayerNorm`).
///
/// Parameter names follow Hugging Face's `BertLayer` (`attention.self.query.weight`,
/// `attention.output.LayerNorm.bias`, `intermediate.dense.weight`, `output.dense.weight`, …), so
/// published checkpoints load by name.
public final class TransformerEncoderLayer: Module {
    /// The self-attention sub-layer.
    public let attention: MultiHeadSelfAttention
    /// LayerNorm of the attention sub-layer.
    public let attentionNorm: LayerNorm
    /// First feed-forward projection, hidden → intermediate.
    public let intermediate: Linear
    /// Second feed-forward projection, intermediate → hidden.
    public let output: Linear
    /// LayerNorm of the feed-forward sub-layer.
    public let outputNorm: LayerNorm
    /// Dropout on each sub-layer's output before the residual sum.
    public let dropout: Dropout
    /// Whether LayerNorm comes before each sub-layer rather than after the residual sum.
    public let preLayerNorm: Bool
    /// Training (dropout active) or evaluation.
    public var isTraining = true

    /// A block of `architecture`'s sizes.
    public init(_ architecture: BertArchitecture, initializerRange: Float = 0.02, device: Device? = nil,
                generator: RandomGenerator? = nil) throws {
        let (hidden, inner) = (architecture.hiddenSize, architecture.intermediateSize)
        let initializer = Initializer.bert(range: initializerRange)
        attention = try MultiHeadSelfAttention(
            hidden: hidden, heads: architecture.attentionHeads, headSize: architecture.attentionHeadSize, initializerRange: initializerRange, device: device,
            generator: generator)
        attentionNorm = try LayerNorm(hidden, epsilon: architecture.layerNormEpsilon, device: device)
        intermediate = try Linear(hidden, inner, weightInitializer: initializer, device: device, generator: generator)
        output = try Linear(inner, hidden, weightInitializer: initializer, device: device, generator: generator)
        outputNorm = try LayerNorm(hidden, epsilon: architecture.layerNormEpsilon, device: device)
        dropout = try Dropout(architecture.hiddenDropout, generator: generator)
        preLayerNorm = architecture.preLayerNorm
    }

    /// The sub-layers under Hugging Face's names.
    public var children: [(name: String, module: any Module)] {
        [("attention.self.query", attention.query), ("attention.self.key", attention.key),
         ("attention.self.value", attention.value), ("attention.output.dense", attention.output),
         ("attention.output.LayerNorm", attentionNorm), ("intermediate.dense", intermediate),
         ("output.dense", output), ("output.LayerNorm", outputNorm), ("dropout", dropout)]
    }

    /// The block applied with every position visible.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try callAsFunction(x, mask: nil)
    }

    /// The block applied to `x` `[batch, length, hidden]`; `mask` `[batch, length]` marks real tokens with 1.
    public func callAsFunction(_ input: Tensor, mask: Tensor?) throws -> Tensor {
        let x = try input.inComputeType()  // the residual sums stay in one type
        if preLayerNorm {
            let attended = try x + dropout(attention(attentionNorm(x), mask: mask))
            return try attended + dropout(feedForward(outputNorm(attended)))
        }
        let attended = try attentionNorm(x + dropout(attention(x, mask: mask)))
        return try outputNorm(attended + dropout(feedForward(attended)))
    }

    private func feedForward(_ x: Tensor) throws -> Tensor {
        try output(intermediate(x).gelu())
    }
}
