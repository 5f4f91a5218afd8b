import CortadoTraining
import Foundation
import Testing

/// The reference outputs of all-MiniLM-L6-v2 in `Tests/CortadoTests/Fixtures/minilm-reference.safetensors`,
/// made by `tools/minilm-reference` (HF tokenizers for the ids, an independent NumPy float64 BERT
/// for the hidden states and embeddings; see tools/minilm_reference.py).
struct MiniLMFixture {
    /// The fixture file, found next to the test sources so that no working directory is assumed.
    static let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/minilm-reference.safetensors")

    /// One reference text.
    struct Text {
        /// The text.
        let text: String
        /// The maximum length it was encoded with.
        let maxLength: Int
        /// `[CLS]`, word pieces, `[SEP]`.
        let ids: [Int32]
        /// The vocabulary entry of each id.
        let tokens: [String]
        /// All ones.
        let attentionMask: [Int32]
        /// `[ids.count, 384]`, row-major.
        let lastHiddenState: [Float]
        /// The sentence-transformers embedding, 384 values of norm 1.
        let embedding: [Float]
    }

    /// The texts encoded one by one.
    let texts: [Text]
    /// The texts of the padded batch.
    let batchTexts: [String]
    /// The batch's maximum length.
    let batchMaxLength: Int
    /// `[B, L]` ids, padded with `[PAD]`.
    let batchIds: [Int32]
    /// `[B, L]`, 1 at tokens and 0 at padding.
    let batchAttentionMask: [Int32]
    /// `[B, L]`.
    let batchShape: [Int]
    /// `[B, L, 384]`, padded positions included.
    let batchLastHiddenState: [Float]
    /// `[B, 384]`.
    let batchEmbeddings: [Float]
    /// Texts for the tokenizer only: the ids of each with `[CLS]` and `[SEP]`, untruncated.
    let tokenizerCases: [(text: String, ids: [Int32])]

    /// Reads the fixture; throws naming the file and `tools/minilm-reference` when it is missing or damaged.
    static func load() throws -> MiniLMFixture {
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(contentsOf: url)
        } catch {
            throw FixtureError("\(error) (regenerate it with tools/minilm-reference)")
        }
        func json<T: Decodable>(_ key: String, as type: T.Type) throws -> T {
            guard let text = file.metadata[key] else { throw FixtureError("\(url.path): no metadata '\(key)'") }
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        }
        let texts = try json("texts", as: [String].self)
        let maxLengths = try json("max_lengths", as: [Int].self)
        let tokens = try json("tokens", as: [[String]].self)
        let cases = try json("tokenizer_cases", as: [TokenizerCase].self)
        return MiniLMFixture(
            texts: try texts.indices.map { i in
                Text(text: texts[i], maxLength: maxLengths[i], ids: try file.int32s("text\(i).input_ids"), tokens: tokens[i],
                     attentionMask: try file.int32s("text\(i).attention_mask"),
                     lastHiddenState: try file.floats("text\(i).last_hidden_state"),
                     embedding: try file.floats("text\(i).embedding"))
            },
            batchTexts: try json("batch_texts", as: [String].self),
            batchMaxLength: try json("batch_max_length", as: Int.self),
            batchIds: try file.int32s("batch.input_ids"),
            batchAttentionMask: try file.int32s("batch.attention_mask"),
            batchShape: try file.requireInfo("batch.input_ids").shape,
            batchLastHiddenState: try file.floats("batch.last_hidden_state"),
            batchEmbeddings: try file.floats("batch.embeddings"),
            tokenizerCases: cases.map { ($0.text, $0.ids) })
    }

    /// A `[text, ids]` pair of `tokenizer_cases`.
    private struct TokenizerCase: Decodable {
        let text: String
        let ids: [Int32]

        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            text = try container.decode(String.self)
            ids = try container.decode([Int32].self)
        }
    }
}

/// A fixture or model file that a test needs and cannot read.
struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The all-MiniLM-L6-v2 directory that `tools/setup` fetches. Tests that need it fail (never skip)
/// when it is absent, saying how to get it; CI runs tools/setup first.
enum RealModel {
    /// Opens the model directory, or throws a message that says to run tools/setup.
    static func directory() throws -> PretrainedModelDirectory {
        let path = PretrainedModelDirectory.defaultPath
        guard FileManager.default.fileExists(atPath: path) else {
            throw FixtureError("all-MiniLM-L6-v2 is not at \(path): run tools/setup (it fetches the model into "
                               + "<data dir>/models/all-MiniLM-L6-v2)")
        }
        return try PretrainedModelDirectory(path: path)
    }

    /// The real model's tokenizer, read once.
    static func tokenizer() throws -> WordPieceTokenizer {
        try cachedTokenizer.get()
    }

    private static let cachedTokenizer = Result { try directory().loadTokenizer() }
}
