import Foundation

/// A Hugging Face BERT model directory: `config.json`, `model.safetensors` and `vocab.txt`, with
/// the optional `tokenizer_config.json` and `sentence_bert_config.json` of sentence-transformers.
///
/// Opening one only checks that the three files are there; ``loadConfig()``, ``loadTokenizer()``
/// and ``loadWeights()`` read and check them.
///
/// ```swift
/// let directory = try PretrainedModelDirectory(path: PretrainedModelDirectory.defaultPath)
/// let config = try directory.loadConfig()
/// let tokenizer = try directory.loadTokenizer()
/// let weights = try directory.loadWeights()
/// ```
public struct PretrainedModelDirectory: Sendable {
    /// The model that `tools/setup` fetches: sentence-transformers' all-MiniLM-L6-v2.
    public static let defaultModelName = "all-MiniLM-L6-v2"
    /// The model configuration file.
    public static let configFileName = "config.json"
    /// The weights file.
    public static let weightsFileName = "model.safetensors"
    /// The WordPiece vocabulary file.
    public static let vocabularyFileName = "vocab.txt"
    /// The tokenizer settings file (optional).
    public static let tokenizerConfigFileName = "tokenizer_config.json"
    /// The sentence-transformers settings file (optional), which holds `max_seq_length`.
    public static let sentenceTransformersConfigFileName = "sentence_bert_config.json"

    /// The folder under the data directory where `tools/setup` puts pretrained models.
    public static let modelsFolderName = "models"

    /// Where `tools/setup` puts all-MiniLM-L6-v2 for this process: `<data dir>/models/all-MiniLM-L6-v2`,
    /// the data directory being ``CortadoData/directory``.
    public static var defaultPath: String {
        defaultPath(environment: ProcessEnvironment.all())
    }

    /// ``defaultPath`` for the data directory that `environment` picks.
    public static func defaultPath(environment: [String: String]) -> String {
        (CortadoData.directory(environment: environment) as NSString)
            .appendingPathComponent("\(modelsFolderName)/\(defaultModelName)")
    }

    /// The directory.
    public let url: URL
    /// `config.json`.
    public var configURL: URL { url.appendingPathComponent(Self.configFileName) }
    /// `model.safetensors`.
    public var weightsURL: URL { url.appendingPathComponent(Self.weightsFileName) }
    /// `vocab.txt`.
    public var vocabularyURL: URL { url.appendingPathComponent(Self.vocabularyFileName) }
    /// `tokenizer_config.json` (it may not exist).
    public var tokenizerConfigURL: URL { url.appendingPathComponent(Self.tokenizerConfigFileName) }
    /// `sentence_bert_config.json` (it may not exist).
    public var sentenceTransformersConfigURL: URL { url.appendingPathComponent(Self.sentenceTransformersConfigFileName) }

    /// Opens the model directory at `path`, checking that it has `config.json`, `model.safetensors`
    /// and `vocab.txt`.
    ///
    /// - Throws: ``DataError/notFound(path:expected:)`` naming the directory or the first missing
    ///   file, and saying how to get the default model.
    public init(path: String) throws {
        let url = URL(fileURLWithPath: path, isDirectory: true)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError.notFound(path: url.path, expected: "a Hugging Face BERT model directory (config.json, "
                                     + "model.safetensors, vocab.txt). " + Self.howToFetch)
        }
        self.url = url
        for (file, role) in [(Self.configFileName, "the model configuration"), (Self.weightsFileName, "the weights"),
                             (Self.vocabularyFileName, "the WordPiece vocabulary")] {
            let fileURL = url.appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: fileURL.path) else {
                var expected = "\(role) of the model directory \(url.path), which needs config.json, "
                    + "model.safetensors and vocab.txt."
                if file == Self.weightsFileName,
                   FileManager.default.fileExists(atPath: url.appendingPathComponent("pytorch_model.bin").path) {
                    expected += " The directory has pytorch_model.bin, which Cortado does not read: save the model "
                        + "with safetensors (save_pretrained(..., safe_serialization=True))."
                }
                throw DataError.notFound(path: fileURL.path, expected: expected + " " + Self.howToFetch)
            }
        }
    }

    /// How to get the default model, for error messages.
    static var howToFetch: String {
        "`tools/setup` fetches \(defaultModelName) into <data dir>/\(modelsFolderName)/\(defaultModelName) "
            + "(here \(defaultPath))"
    }

    /// Reads and checks `config.json`.
    /// - Throws: ``DataError`` naming `config.json` and the problem.
    public func loadConfig() throws -> BertConfig {
        try BertConfig.load(contentsOf: configURL)
    }

    /// Reads `vocab.txt`, after checking that `tokenizer_config.json`, when present, describes an
    /// uncased BERT tokenizer.
    /// - Throws: ``DataError`` naming the file and the problem.
    public func loadTokenizer() throws -> WordPieceTokenizer {
        try BertTokenizerSettings.loadIfPresent(tokenizerConfigURL)?.validate(file: tokenizerConfigURL.path)
        return try WordPieceTokenizer(contentsOf: vocabularyURL)
    }

    /// Reads and checks `model.safetensors` (the whole file, into memory).
    /// - Throws: ``DataError`` naming the file and the problem.
    public func loadWeights() throws -> PretrainedWeights {
        try PretrainedWeights(contentsOf: weightsURL)
    }

    /// The longest sequence to encode by default: sentence-transformers' `max_seq_length` when
    /// `sentence_bert_config.json` gives one (256 for all-MiniLM-L6-v2), else the tokenizer's
    /// `model_max_length`, never more than the position embedding's `max_position_embeddings`.
    /// - Throws: ``DataError`` when one of the files is malformed.
    public func defaultMaxLength(config: BertConfig) throws -> Int {
        let sentence = try BertTokenizerSettings.loadIfPresent(sentenceTransformersConfigURL)?.maxLength
        let tokenizer = try BertTokenizerSettings.loadIfPresent(tokenizerConfigURL)?.maxLength
        return min(sentence ?? tokenizer ?? config.maxPositionEmbeddings, config.maxPositionEmbeddings)
    }
}
