import Foundation

/// The settings of `tokenizer_config.json` (and `sentence_bert_config.json`) that decide whether
/// ``WordPieceTokenizer`` tokenises a model's text as its authors did.
struct BertTokenizerSettings: Decodable {
    /// `do_lower_case`: `nil` or `true` for uncased models.
    var doLowerCase: Bool?
    /// `tokenize_chinese_chars`: `nil` or `true`.
    var tokenizeChineseChars: Bool?
    /// `strip_accents`: `nil` (follow lowercasing) or `true`.
    var stripAccents: Bool?
    /// `tokenizer_class`, e.g. `BertTokenizer`.
    var tokenizerClass: String?
    /// `model_max_length` (tokenizer_config.json) or `max_seq_length` (sentence_bert_config.json).
    var maxLength: Int?

    private enum CodingKeys: String, CodingKey {
        case doLowerCase = "do_lower_case"
        case tokenizeChineseChars = "tokenize_chinese_chars"
        case stripAccents = "strip_accents"
        case tokenizerClass = "tokenizer_class"
        case modelMaxLength = "model_max_length"
        case maxSequenceLength = "max_seq_length"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        doLowerCase = try container.decodeIfPresent(Bool.self, forKey: .doLowerCase)
        tokenizeChineseChars = try container.decodeIfPresent(Bool.self, forKey: .tokenizeChineseChars)
        stripAccents = try container.decodeIfPresent(Bool.self, forKey: .stripAccents)
        tokenizerClass = try container.decodeIfPresent(String.self, forKey: .tokenizerClass)
        // Some files write model_max_length as a huge float meaning "no limit"; that is no limit here either.
        let modelMax = (try? container.decodeIfPresent(Double.self, forKey: .modelMaxLength)) ?? nil
        let sequenceMax = (try? container.decodeIfPresent(Int.self, forKey: .maxSequenceLength)) ?? nil
        maxLength = sequenceMax ?? modelMax.flatMap { $0 >= 1 && $0 < 1e9 ? Int($0) : nil }
    }

    /// Reads `url` when it exists; `nil` when it does not.
    /// - Throws: ``DataError/malformed(file:problem:)`` when it exists but is not such a JSON object.
    static func loadIfPresent(_ url: URL) throws -> BertTokenizerSettings? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data = try SmallFile.read(url, expected: "tokenizer settings (JSON)", limit: 16 << 20)
        do {
            return try JSONDecoder().decode(BertTokenizerSettings.self, from: data)
        } catch {
            throw DataError.malformed(file: url.path, problem: "not a JSON object of tokenizer settings: \(DecodingProblem.describe(error))")
        }
    }

    /// Checks that these are the settings of an uncased BERT WordPiece tokenizer.
    /// - Throws: ``DataError/malformed(file:problem:)`` naming `file` and the setting.
    func validate(file: String) throws {
        if doLowerCase == false {
            throw DataError.malformed(
                file: file, problem: "do_lower_case is false: a cased model, while Cortado's WordPiece tokenizer is BERT uncased")
        }
        if tokenizeChineseChars == false {
            throw DataError.malformed(
                file: file, problem: "tokenize_chinese_chars is false, which Cortado's WordPiece tokenizer does not support")
        }
        if stripAccents == false {
            throw DataError.malformed(
                file: file, problem: "strip_accents is false, which Cortado's WordPiece tokenizer does not support")
        }
        if let tokenizerClass, !tokenizerClass.hasPrefix("BertTokenizer") {
            throw DataError.malformed(
                file: file, problem: "tokenizer_class '\(tokenizerClass)' is not supported; Cortado reads BertTokenizer vocabularies")
        }
    }
}
