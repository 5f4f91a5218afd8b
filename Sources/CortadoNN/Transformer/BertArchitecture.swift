/// The sizes and options of a BERT-family encoder: what a Hugging Face `config.json` describes.
public struct BertArchitecture: Codable, Sendable, Equatable {
    /// Word-piece vocabulary size.
    public var vocabularySize: Int
    /// Width of every hidden state.
    public var hiddenSize: Int
    /// Number of encoder blocks.
    public var layerCount: Int
    /// Attention heads per block; `hiddenSize` must be a multiple of it.
    public var attentionHeads: Int
    /// Width of the feed-forward layer inside each block.
    public var intermediateSize: Int
    /// Longest sequence the position table covers.
    public var maxPositions: Int
    /// Number of token types (segments).
    public var typeVocabularySize: Int
    /// Epsilon of every LayerNorm.
    public var layerNormEpsilon: Float
    /// Dropout after the embeddings, attention output and feed-forward output.
    public var hiddenDropout: Float
    /// Dropout on the attention probabilities.
    public var attentionDropout: Float
    /// `true` for pre-LayerNorm blocks (normalise before each sub-layer); BERT is post-LayerNorm.
    public var preLayerNorm: Bool

    /// An architecture; the defaults are BERT's.
    public init(
        vocabularySize: Int, hiddenSize: Int, layerCount: Int, attentionHeads: Int, intermediateSize: Int,
        maxPositions: Int = 512, typeVocabularySize: Int = 2, layerNormEpsilon: Float = 1e-12,
        hiddenDropout: Float = 0.1, attentionDropout: Float = 0.1, preLayerNorm: Bool = false
    ) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.attentionHeads = attentionHeads
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEpsilon = layerNormEpsilon
        self.hiddenDropout = hiddenDropout
        self.attentionDropout = attentionDropout
        self.preLayerNorm = preLayerNorm
    }

    /// Width of one attention head.
    public var headSize: Int { hiddenSize / Swift.max(attentionHeads, 1) }

    /// Throws if a size is not positive or the hidden size does not split into the heads.
    public func validate() throws {
        let sizes = [("vocabularySize", vocabularySize), ("hiddenSize", hiddenSize), ("layerCount", layerCount),
                     ("attentionHeads", attentionHeads), ("intermediateSize", intermediateSize),
                     ("maxPositions", maxPositions), ("typeVocabularySize", typeVocabularySize)]
        for (name, size) in sizes where size <= 0 {
            throw CortadoError.invalidArgument("BERT architecture: \(name) is \(size); it must be positive")
        }
        guard hiddenSize % attentionHeads == 0 else {
            throw CortadoError.invalidArgument(
                "BERT architecture: hiddenSize \(hiddenSize) is not a multiple of attentionHeads \(attentionHeads)")
        }
        for (name, p) in [("hiddenDropout", hiddenDropout), ("attentionDropout", attentionDropout)] where !(p >= 0 && p < 1) {
            throw CortadoError.invalidArgument("BERT architecture: \(name) \(p) must be in [0, 1)")
        }
    }
}

extension Initializer {
    /// BERT's weight initialiser, `N(0, range)`; zeros when `range` is 0, for weights that are
    /// about to be replaced by a checkpoint's (drawing 20 M normals would be wasted work).
    public static func bert(range: Float) -> Initializer {
        range > 0 ? .normal(mean: 0, std: range) : .zeros
    }
}
