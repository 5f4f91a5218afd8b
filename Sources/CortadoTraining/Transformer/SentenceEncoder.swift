import Foundation

/// Sentence embeddings as sentence-transformers computes them for BERT-family models such as
/// all-MiniLM-L6-v2: WordPiece ids, the encoder's last hidden states, the mean over real tokens,
/// L2-normalised.
///
/// ```swift
/// let encoder = try SentenceEncoder(directory: PretrainedModelDirectory(path: path), device: .cpu)
/// let vectors = try encoder.embed(["A man is eating food.", "A man is riding a horse."])
/// ```
public final class SentenceEncoder {
    /// The encoder, in evaluation mode.
    public let model: BertModel
    /// The model's tokenizer.
    public let tokenizer: WordPieceTokenizer
    /// Longest token sequence, `[CLS]` and `[SEP]` included; longer texts are truncated.
    public let maxLength: Int
    /// The device the model runs on.
    public let device: Device
    /// The precision the encoder runs in (its weights are stored in its compute type).
    public let precision: Precision

    /// The model and tokenizer of `directory` on `device`; `maxLength` defaults to the model's own
    /// (sentence-transformers' `max_seq_length`, else its position table). With a 16-bit
    /// `precision`, the weights are converted once and the encoder computes in that type (the
    /// pooling and normalisation of the output in float32).
    public init(directory: PretrainedModelDirectory, device: Device, maxLength: Int? = nil, precision: Precision = .fp32) throws {
        let config = try directory.loadConfig()
        let limit = try maxLength ?? directory.defaultMaxLength(config: config)
        guard limit >= 2, limit <= config.maxPositionEmbeddings else {
            throw DataError.invalidRequest(
                "maximum length \(limit) must be between 2 and the model's \(config.maxPositionEmbeddings) positions")
        }
        let tokenizer = try directory.loadTokenizer()
        // Ids past the word embedding would all read one row (the gather clamps): refuse the mismatch.
        guard tokenizer.vocabularySize <= config.vocabularySize else {
            throw DataError.malformed(
                file: directory.vocabularyURL.path,
                problem: "\(tokenizer.vocabularySize) entries, more than the \(config.vocabularySize) rows of the word embedding (vocab_size in \(directory.configURL.path))")
        }
        self.tokenizer = tokenizer
        model = try directory.loadEncoder(device: device)
        try model.convertWeights(to: precision.computeType)
        self.maxLength = limit
        self.device = device
        self.precision = precision
    }

    /// The token encodings of `texts`, as ``embed(_:batchSize:)`` feeds them to the model.
    public func encode(_ texts: [String]) throws -> [WordPieceEncoding] {
        try texts.map { try tokenizer.encode($0, maxLength: maxLength) }
    }

    /// One unit-length vector per text, in the order given. Texts are grouped into batches of
    /// similar length (longest first, as sentence-transformers' `encode` sorts them) so that
    /// little padding is computed; the result does not depend on the grouping beyond rounding.
    public func embed(_ texts: [String], batchSize: Int = 64) throws -> [[Float]] {
        try embed(encodings: encode(texts), batchSize: batchSize)
    }

    /// One unit-length vector per encoding (from ``encode(_:)``), in the order given, batched as
    /// ``embed(_:batchSize:)`` does.
    public func embed(encodings: [WordPieceEncoding], batchSize: Int = 64) throws -> [[Float]] {
        guard batchSize > 0 else { throw DataError.invalidRequest("batch size \(batchSize) must be positive") }
        let order = encodings.indices.sorted { encodings[$0].ids.count > encodings[$1].ids.count }
        var vectors = [[Float]](repeating: [], count: encodings.count)
        let width = model.architecture.hiddenSize
        try withNoGrad {
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let rows = Array(order[start..<min(start + batchSize, order.count)])
                let batch = WordPieceBatch(padding: rows.map { encodings[$0].ids }, paddingId: tokenizer.paddingId)
                let mask = try Tensor(batch.attentionMask, shape: batch.shape, device: device)
                let hidden = try withComputeType(precision.computeType) {
                    try model(Tensor(indices: batch.ids, shape: batch.shape, device: device), mask: mask)
                }
                let values = try hidden.to(dtype: .float32).meanPooled(mask: mask).l2Normalized().toArray()
                for (position, row) in rows.enumerated() {
                    vectors[row] = Array(values[(position * width)..<((position + 1) * width)])
                }
            }
        }
        return vectors
    }
}

extension SentenceEncoder {
    /// Whether `name` is the second feed-forward Linear of an encoder layer
    /// (`encoder.layer.N.output.dense`), whose input (the GELU output) has outliers that one int8
    /// scale per row resolves poorly: ``EncoderQuantization/feedForwardOutputScheme`` applies to it.
    public static func isFeedForwardOutput(_ name: String) -> Bool {
        name.hasSuffix("output.dense") && !name.contains("attention")
    }
}
