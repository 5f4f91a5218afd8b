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
    /// Width of each attention head when it is not `hiddenSize / attentionHeads`: set when heads
    /// were pruned (`cortado prune --structured`), `nil` otherwise (and in checkpoints before it).
    public var attentionHeadSize: Int?
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

    /// Width of one attention head: ``attentionHeadSize``, or `hiddenSize / attentionHeads`.
    public var headSize: Int { attentionHeadSize ?? hiddenSize / Swift.max(attentionHeads, 1) }

    /// Width of the joined heads (the queries, keys and values): `attentionHeads · headSize`.
    public var attentionWidth: Int { attentionHeads * headSize }

    /// The number of parameters the encoder has, computed in floating point (so absurd sizes
    /// cannot overflow): the three embedding tables and their LayerNorm, then per block the four
    /// attention projections, the two feed-forward layers and two LayerNorms.
    public var parameterEstimate: Double {
        let h = Double(hiddenSize), i = Double(intermediateSize)
        let a = Double(attentionHeads) * Double(attentionHeadSize ?? hiddenSize / Swift.max(attentionHeads, 1))
        let embeddings = (Double(vocabularySize) + Double(maxPositions) + Double(typeVocabularySize)) * h + 2 * h
        let block = 4 * h * a + 3 * a + h + 2 * h * i + i + h + 4 * h
        return embeddings + Double(layerCount) * block
    }

    /// The largest sizes accepted: beyond them a file describes no real model, and building it would
    /// only exhaust memory.
    public static let sizeLimits: [String: Int] = [
        "vocabularySize": 1 << 24, "hiddenSize": 1 << 16, "layerCount": 1024, "attentionHeads": 1024,
        "intermediateSize": 1 << 18, "maxPositions": 1 << 20, "typeVocabularySize": 1 << 16,
    ]

    /// Throws if a size is not positive or the hidden size does not split into the heads (unless
    /// ``attentionHeadSize`` gives their width).
    public func validate() throws {
        let sizes = [("vocabularySize", vocabularySize), ("hiddenSize", hiddenSize), ("layerCount", layerCount),
                     ("attentionHeads", attentionHeads), ("intermediateSize", intermediateSize),
                     ("maxPositions", maxPositions), ("typeVocabularySize", typeVocabularySize)]
        for (name, size) in sizes where size <= 0 {
            throw CortadoError.invalidArgument("BERT architecture: \(name) is \(size); it must be positive")
        }
        for (name, size) in sizes where size > Self.sizeLimits[name, default: Int.max] {
            throw CortadoError.invalidArgument("BERT architecture: \(name) \(size) is implausible (at most \(Self.sizeLimits[name, default: 0]))")
        }
        guard layerNormEpsilon.isFinite, layerNormEpsilon > 0 else {
            throw CortadoError.invalidArgument("BERT architecture: layerNormEpsilon \(layerNormEpsilon) must be a positive number")
        }
        if let attentionHeadSize {
            guard attentionHeadSize > 0, attentionHeadSize <= Self.sizeLimits["hiddenSize", default: 0] else {
                throw CortadoError.invalidArgument("BERT architecture: attentionHeadSize \(attentionHeadSize) must be positive and at most \(Self.sizeLimits["hiddenSize", default: 0])")
            }
        } else if hiddenSize % attentionHeads != 0 {
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
