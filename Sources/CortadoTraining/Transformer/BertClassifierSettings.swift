import Foundation

/// What a checkpoint of a fine-tuned ``BertClassifier`` records besides its tensors, so that
/// `eval`, `predict` and `--resume` need no model directory: the encoder's architecture and the
/// WordPiece vocabulary (the maximum length and class names are in ``CheckpointConfiguration``).
public struct BertClassifierSettings: Codable, Sendable, Equatable {
    /// The encoder's sizes and options (dropout included).
    public var architecture: BertArchitecture
    /// The WordPiece vocabulary, one entry per id (the lines of `vocab.txt`).
    public var vocabulary: [String]
    /// The model directory the encoder was first loaded from (for the record only).
    public var initializedFrom: String?

    /// Settings from their parts.
    public init(architecture: BertArchitecture, vocabulary: [String], initializedFrom: String? = nil) {
        self.architecture = architecture
        self.vocabulary = vocabulary
        self.initializedFrom = initializedFrom
    }

    /// The tokenizer of the recorded vocabulary.
    /// - Throws: ``DataError`` when the vocabulary lacks one of BERT's special tokens.
    public func tokenizer() throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabulary: vocabulary)
    }

    /// A classifier of this architecture with zero weights, to be loaded from a checkpoint; its
    /// dropout draws from `generator` (the global one when `nil`).
    public func makeModel(outputs: Int, device: Device?, generator: RandomGenerator? = nil) throws -> BertClassifier {
        try BertClassifier(architecture, outputs: outputs, initializerRange: 0, device: device, generator: generator)
    }
}

/// A pretrained encoder with a new classification head, and what a checkpoint must record of it.
public struct PretrainedClassifier {
    /// The encoder with its pretrained weights and a freshly initialised head.
    public let model: BertClassifier
    /// The directory's tokenizer.
    public let tokenizer: WordPieceTokenizer
    /// The architecture and vocabulary to record.
    public let settings: BertClassifierSettings

    /// Loads the encoder and tokenizer of `directory` on `device` and puts a head of `outputs`
    /// logits on it (weights `N(0, initializer_range)`, dropout `hidden_dropout_prob`, as Hugging
    /// Face's `BertForSequenceClassification` initialises its head).
    ///
    /// - Throws: ``DataError`` naming the directory's file at fault, or when `vocab.txt` has more
    ///   entries than the word embedding has rows.
    public init(directory: PretrainedModelDirectory, outputs: Int, device: Device, generator: RandomGenerator?) throws {
        let config = try directory.loadConfig()
        let tokenizer = try directory.loadTokenizer()
        guard tokenizer.vocabularySize <= config.vocabularySize else {
            throw DataError.malformed(
                file: directory.vocabularyURL.path,
                problem: "\(tokenizer.vocabularySize) entries, more than the \(config.vocabularySize) rows of the word embedding (vocab_size in config.json)")
        }
        let encoder = try directory.loadEncoder(device: device)
        model = try BertClassifier(encoder: encoder, outputs: outputs, dropout: config.hiddenDropout,
                                   initializerRange: config.initializerRange, device: device, generator: generator)
        self.tokenizer = tokenizer
        settings = BertClassifierSettings(architecture: config.architecture, vocabulary: tokenizer.vocabulary,
                                          initializedFrom: directory.url.path)
    }
}
