import Foundation

/// The architecture of a BERT-family model, as its Hugging Face `config.json` gives it.
///
/// Keys that a file leaves out take the defaults of Hugging Face's `BertConfig` (those of
/// bert-base-uncased). ``load(contentsOf:)`` reads and checks a file; decoding alone checks only
/// the types.
///
/// ```swift
/// let config = try BertConfig.load(contentsOf: directory.configURL)
/// config.hiddenSize / config.attentionHeads   // 32 for all-MiniLM-L6-v2
/// ```
public struct BertConfig: Decodable, Sendable, Equatable {
    /// The model types accepted in `model_type`.
    public static let supportedModelTypes: Set<String> = ["bert"]
    /// The activations accepted in `hidden_act`: `gelu` is the exact, erf-based GELU.
    public static let supportedActivations: Set<String> = ["gelu"]
    /// The position embeddings accepted in `position_embedding_type`.
    public static let supportedPositionEmbeddings: Set<String> = ["absolute"]

    /// `hidden_size`: the width of every token's vector (768).
    public var hiddenSize: Int
    /// `num_hidden_layers`: the number of encoder blocks (12).
    public var layerCount: Int
    /// `num_attention_heads`: heads per attention layer (12); each has `hiddenSize / attentionHeads` dimensions.
    public var attentionHeads: Int
    /// `intermediate_size`: the width of the feed-forward layer of each block (3072).
    public var intermediateSize: Int
    /// `vocab_size`: the rows of the word embedding (30522).
    public var vocabularySize: Int
    /// `max_position_embeddings`: the longest sequence the position embedding covers (512).
    public var maxPositionEmbeddings: Int
    /// `type_vocab_size`: the rows of the token-type (segment) embedding (2).
    public var typeVocabularySize: Int
    /// `layer_norm_eps`: the epsilon of every LayerNorm (1e-12).
    public var layerNormEpsilon: Float
    /// `hidden_act`: the feed-forward activation; only `gelu` (exact GELU) is accepted.
    public var hiddenActivation: String
    /// `hidden_dropout_prob`: dropout after embeddings and each sub-layer, in training (0.1).
    public var hiddenDropout: Float
    /// `attention_probs_dropout_prob`: dropout on attention probabilities, in training (0.1).
    public var attentionDropout: Float
    /// `initializer_range`: the standard deviation for initialising new weights, e.g. a classifier head (0.02).
    public var initializerRange: Float
    /// `pad_token_id`: the id of `[PAD]` (0).
    public var padTokenId: Int
    /// `position_embedding_type`: only `absolute` is accepted.
    public var positionEmbeddingType: String
    /// `model_type`, when the file gives one (`bert`).
    public var modelType: String?
    /// `architectures`: the Hugging Face classes the checkpoint was saved from, e.g. `["BertModel"]`.
    public var architectures: [String]

    /// The dimensions of one attention head: `hiddenSize / attentionHeads`.
    public var headSize: Int { hiddenSize / max(attentionHeads, 1) }

    /// The keys of `config.json`.
    private enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size"
        case layerCount = "num_hidden_layers"
        case attentionHeads = "num_attention_heads"
        case intermediateSize = "intermediate_size"
        case vocabularySize = "vocab_size"
        case maxPositionEmbeddings = "max_position_embeddings"
        case typeVocabularySize = "type_vocab_size"
        case layerNormEpsilon = "layer_norm_eps"
        case hiddenActivation = "hidden_act"
        case hiddenDropout = "hidden_dropout_prob"
        case attentionDropout = "attention_probs_dropout_prob"
        case initializerRange = "initializer_range"
        case padTokenId = "pad_token_id"
        case positionEmbeddingType = "position_embedding_type"
        case modelType = "model_type"
        case architectures
    }

    /// A configuration with Hugging Face's `BertConfig` defaults (bert-base-uncased), changed by `configure`.
    public init(_ configure: (inout BertConfig) -> Void = { _ in }) {
        hiddenSize = 768
        layerCount = 12
        attentionHeads = 12
        intermediateSize = 3072
        vocabularySize = 30522
        maxPositionEmbeddings = 512
        typeVocabularySize = 2
        layerNormEpsilon = 1e-12
        hiddenActivation = "gelu"
        hiddenDropout = 0.1
        attentionDropout = 0.1
        initializerRange = 0.02
        padTokenId = 0
        positionEmbeddingType = "absolute"
        modelType = "bert"
        architectures = []
        configure(&self)
    }

    /// Decodes the keys present, the defaults standing in for the others; unknown keys are ignored.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        var config = BertConfig()
        config.modelType = nil
        func read<Value: Decodable>(_ key: CodingKeys, into path: WritableKeyPath<BertConfig, Value>) throws {
            if let value = try container.decodeIfPresent(Value.self, forKey: key) { config[keyPath: path] = value }
        }
        try read(.hiddenSize, into: \.hiddenSize)
        try read(.layerCount, into: \.layerCount)
        try read(.attentionHeads, into: \.attentionHeads)
        try read(.intermediateSize, into: \.intermediateSize)
        try read(.vocabularySize, into: \.vocabularySize)
        try read(.maxPositionEmbeddings, into: \.maxPositionEmbeddings)
        try read(.typeVocabularySize, into: \.typeVocabularySize)
        try read(.layerNormEpsilon, into: \.layerNormEpsilon)
        try read(.hiddenActivation, into: \.hiddenActivation)
        try read(.hiddenDropout, into: \.hiddenDropout)
        try read(.attentionDropout, into: \.attentionDropout)
        try read(.initializerRange, into: \.initializerRange)
        try read(.padTokenId, into: \.padTokenId)
        try read(.positionEmbeddingType, into: \.positionEmbeddingType)
        config.modelType = try container.decodeIfPresent(String.self, forKey: .modelType)
        try read(.architectures, into: \.architectures)
        self = config
    }

    /// Reads and checks a `config.json`.
    ///
    /// - Throws: ``DataError`` naming the file: missing, unreadable, not JSON, a key of the wrong
    ///   type, or a configuration that ``validate(file:)`` rejects.
    public static func load(contentsOf url: URL) throws -> BertConfig {
        let path = url.path
        let data = try SmallFile.read(url, expected: "a Hugging Face model configuration (config.json)", limit: 16 << 20)
        let config: BertConfig
        do {
            config = try JSONDecoder().decode(BertConfig.self, from: data)
        } catch let DecodingError.typeMismatch(type, context) where !context.codingPath.isEmpty {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw DataError.malformed(file: path, problem: "'\(key)' must be \(describe(type))")
        } catch {
            throw DataError.malformed(file: path, problem: "not a JSON object of model settings: \(DecodingProblem.describe(error))")
        }
        try config.validate(file: path)
        return config
    }

    /// Checks that this is a BERT that Cortado can run: a known model type and architecture, the
    /// `gelu` activation, absolute positions, positive sizes, a hidden size divisible by the heads
    /// and a padding id inside the vocabulary.
    ///
    /// - Throws: ``DataError/malformed(file:problem:)`` naming `file` and the setting.
    public func validate(file: String = "config.json") throws {
        func fail(_ problem: String) -> DataError { DataError.malformed(file: file, problem: problem) }
        if let modelType, !Self.supportedModelTypes.contains(modelType) {
            throw fail("model_type '\(modelType)' is not supported; Cortado loads BERT models (model_type 'bert')")
        }
        if let unknown = architectures.first(where: { !$0.hasPrefix("Bert") }) {
            throw fail("architecture '\(unknown)' is not supported; Cortado loads BERT models (BertModel, BertFor…)")
        }
        if modelType == nil && architectures.isEmpty {
            throw fail("names neither model_type nor architectures, so it cannot be told to be a BERT model")
        }
        guard Self.supportedActivations.contains(hiddenActivation) else {
            throw fail("hidden_act '\(hiddenActivation)' is not supported; only 'gelu' (the exact, erf-based GELU) is")
        }
        guard Self.supportedPositionEmbeddings.contains(positionEmbeddingType) else {
            throw fail("position_embedding_type '\(positionEmbeddingType)' is not supported; only 'absolute' is")
        }
        let sizes: [(String, Int)] = [
            ("hidden_size", hiddenSize), ("num_hidden_layers", layerCount), ("num_attention_heads", attentionHeads),
            ("intermediate_size", intermediateSize), ("vocab_size", vocabularySize),
            ("max_position_embeddings", maxPositionEmbeddings), ("type_vocab_size", typeVocabularySize),
        ]
        for (key, value) in sizes where value <= 0 {
            throw fail("\(key) must be positive, got \(value)")
        }
        let caps: [(String, Int, Int)] = [
            ("hidden_size", hiddenSize, 1 << 16), ("num_hidden_layers", layerCount, 1024),
            ("num_attention_heads", attentionHeads, 1024), ("intermediate_size", intermediateSize, 1 << 18),
            ("vocab_size", vocabularySize, 1 << 24), ("max_position_embeddings", maxPositionEmbeddings, 1 << 20),
            ("type_vocab_size", typeVocabularySize, 1 << 16),
        ]
        for (key, value, cap) in caps where value > cap {
            throw fail("\(key) \(value) is implausible (at most \(cap))")
        }
        // The float32 weights this configuration makes, computed before anything is allocated.
        let weightBytes = 4 * architecture.parameterEstimate
        do {
            try MemoryBudget.require(weightBytes, for: "a model of this size")
        } catch let error as TrainingError {
            throw fail(error.description)
        }
        guard hiddenSize % attentionHeads == 0 else {
            throw fail("hidden_size \(hiddenSize) is not divisible by num_attention_heads \(attentionHeads)")
        }
        guard layerNormEpsilon > 0, layerNormEpsilon.isFinite else {
            throw fail("layer_norm_eps must be positive, got \(layerNormEpsilon)")
        }
        for (key, value) in [("hidden_dropout_prob", hiddenDropout), ("attention_probs_dropout_prob", attentionDropout)]
        where !(value >= 0 && value < 1) {
            throw fail("\(key) must be in [0, 1), got \(value)")
        }
        guard padTokenId >= 0, padTokenId < vocabularySize else {
            throw fail("pad_token_id \(padTokenId) is outside the vocabulary of \(vocabularySize) entries")
        }
    }

    /// "an integer", "a number", … for a decoding type.
    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "an integer"
        case is Float.Type, is Double.Type: return "a number"
        case is String.Type: return "a string"
        case is [String].Type: return "a list of strings"
        default: return "\(type)"
        }
    }
}
