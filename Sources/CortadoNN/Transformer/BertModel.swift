/// A BERT-family encoder: ``BertEmbeddings`` then ``BertArchitecture/layerCount`` ×
/// ``TransformerEncoderLayer``, returning the last hidden states.
///
/// Parameter names are Hugging Face's without the `bert.` prefix (`embeddings.word_embeddings.weight`,
/// `encoder.layer.0.attention.self.query.weight`, …), so `loadState` takes a published checkpoint's
/// tensors by name.
///
/// ```swift
/// let encoder = try BertModel(architecture)
/// let hidden = try encoder(ids, mask: mask)           // [batch, length, hidden]
/// let sentences = try hidden.meanPooled(mask: mask).l2Normalized()
/// ```
public final class BertModel: Module {
    /// The sizes and options.
    public let architecture: BertArchitecture
    /// The input embeddings.
    public let embeddings: BertEmbeddings
    /// The encoder blocks, first to last.
    public let layers: [TransformerEncoderLayer]
    /// Training (dropout active) or evaluation.
    public var isTraining = true

    /// A randomly initialised encoder of `architecture` (BERT's `N(0, initializerRange)` weights, zero
    /// biases, unit LayerNorms); `initializerRange` 0 leaves the weights zero, to be loaded.
    public init(_ architecture: BertArchitecture, initializerRange: Float = 0.02, device: Device? = nil,
                generator: RandomGenerator? = nil) throws {
        try architecture.validate()
        self.architecture = architecture
        embeddings = try BertEmbeddings(architecture, initializerRange: initializerRange, device: device, generator: generator)
        layers = try (0..<architecture.layerCount).map { _ in
            try TransformerEncoderLayer(architecture, initializerRange: initializerRange, device: device, generator: generator)
        }
    }

    /// The embeddings and the numbered blocks (`encoder.layer.N`).
    public var children: [(name: String, module: any Module)] {
        [("embeddings", embeddings)] + layers.enumerated().map { ("encoder.layer.\($0.offset)", $0.element) }
    }

    /// The hidden states of `ids` with every token real.
    public func callAsFunction(_ ids: Tensor) throws -> Tensor {
        try callAsFunction(ids, mask: nil)
    }

    /// The last hidden states `[batch, length, hidden]` of `int32` token ids `[batch, length]`;
    /// `mask` `[batch, length]` is 1 for real tokens and 0 for padding.
    public func callAsFunction(_ ids: Tensor, mask: Tensor?) throws -> Tensor {
        if let mask, mask.shape != ids.shape {
            throw CortadoError.shapeMismatch("BertModel: mask has shape \(mask.shape), expected the ids' \(ids.shape)")
        }
        var hidden = try embeddings(ids)
        for layer in layers { hidden = try layer(hidden, mask: mask) }
        return hidden
    }
}
