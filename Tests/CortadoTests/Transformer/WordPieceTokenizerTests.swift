import CortadoTraining
import Foundation
import Testing

@Suite("Transformer: WordPiece tokenizer")
struct WordPieceTokenizerTests {
    /// The small vocabulary of BERT's own tokenizer tests.
    static let smallVocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un", "runn",
                                  "##ing", ",", "low", "lowest"]

    @Test("basic tokenisation: cleaning, lowercasing, accents, punctuation and CJK splitting")
    func basicWords() {
        #expect(BertBasicTokenizer.words(in: " \tHeLLo!how  \n Are yoU?  ") == ["hello", "!", "how", "are", "you", "?"])
        #expect(BertBasicTokenizer.words(in: "H\u{E9}llo W\u{F6}RLD") == ["hello", "world"])
        #expect(BertBasicTokenizer.words(in: "He\u{301}llo") == ["hello"])  // decomposed accent
        #expect(BertBasicTokenizer.words(in: "ah\u{535A}\u{63A8}zz") == ["ah", "\u{535A}", "\u{63A8}", "zz"])
        #expect(BertBasicTokenizer.words(in: "a$b^c`d~e") == ["a", "$", "b", "^", "c", "`", "d", "~", "e"])
        #expect(BertBasicTokenizer.words(in: "\u{BF}Qu\u{E9}? \u{2014}no\u{2026}") == ["\u{BF}", "que", "?", "\u{2014}", "no", "\u{2026}"])
        // Controls and format characters vanish (even U+000B and U+0085, which are also whitespace);
        // U+0000 and U+FFFD too; tab, newline, return and U+2028 separate words.
        #expect(BertBasicTokenizer.words(in: "a\u{0}b\u{FFFD}c\u{7}d\u{B}e\u{85}f\u{200B}g\u{AD}h") == ["abcdefgh"])
        #expect(BertBasicTokenizer.words(in: "a\tb\nc\rd\u{2028}e\u{A0}f\u{3000}g") == ["a", "b", "c", "d", "e", "f", "g"])
        #expect(BertBasicTokenizer.words(in: "") == [])
        #expect(BertBasicTokenizer.words(in: " \u{200B}\t") == [])
    }

    @Test("lowercasing is per character with the full mapping; a final capital sigma becomes σ, not ς")
    func lowercasing() {
        #expect(BertBasicTokenizer.words(in: "\u{130}stanbul") == ["istanbul"])  // İ → i + U+0307, the mark dropped
        #expect(BertBasicTokenizer.words(in: "STRASSE Stra\u{DF}e") == ["strasse", "stra\u{DF}e"])
        // Rust tokenizers (BertTokenizer in transformers 5, BertTokenizerFast) give σ; the pure-Python
        // tokenizer of transformers 4 gives ς here.
        #expect(BertBasicTokenizer.words(in: "\u{3A3}\u{39F}\u{3A6}\u{39F}\u{3A3}") == ["\u{3C3}\u{3BF}\u{3C6}\u{3BF}\u{3C3}"])
    }

    @Test("greedy longest-match-first word pieces with ##, [UNK] for unmatched or over-long words")
    func wordPieces() throws {
        let tokenizer = try WordPieceTokenizer(vocabulary: Self.smallVocabulary)
        #expect(tokenizer.tokenize("unwanted running") == ["un", "##want", "##ed", "runn", "##ing"])
        #expect(tokenizer.tokenize("UNwant\u{E9}d,running") == ["un", "##want", "##ed", ",", "runn", "##ing"])
        #expect(tokenizer.tokenize("unwantedX running") == ["[UNK]", "runn", "##ing"])  // "x" matches nothing
        #expect(tokenizer.tokenize("lowest low") == ["lowest", "low"])  // the longest entry wins
        #expect(tokenizer.tokenize("") == [])
        let long = String(repeating: "want", count: 25)  // exactly 100 characters
        #expect(tokenizer.tokenize(long) == ["want"] + Array(repeating: "##want", count: 24))
        #expect(tokenizer.tokenize(long + "ed") == ["[UNK]"])  // 102 characters
        // A vocabulary without ## entries cannot continue a word.
        let noPieces = try WordPieceTokenizer(vocabulary: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "want"])
        #expect(noPieces.tokenize("want wanted") == ["want", "[UNK]"])
    }

    @Test("the real vocabulary: ## splits, accents, CJK, emoji and control characters")
    func realVocabulary() throws {
        let tokenizer = try RealModel.tokenizer()
        #expect(tokenizer.vocabularySize == 30522)
        #expect(tokenizer.paddingId == 0 && tokenizer.unknownId == 100 && tokenizer.classId == 101 && tokenizer.separatorId == 102)
        #expect(tokenizer.tokenize("unaffable") == ["una", "##ffa", "##ble"])
        #expect(tokenizer.tokenize("Tokenization") == ["token", "##ization"])
        #expect(tokenizer.tokenize("Café naïve RÉSUMÉ") == ["cafe", "naive", "resume"])
        #expect(tokenizer.tokenize("我爱北京") == ["我", "[UNK]", "北", "京"])
        #expect(tokenizer.tokenize("\u{1F600}!") == ["[UNK]", "!"])
        // The control and zero-width characters vanish inside the word; the tab separates.
        #expect(tokenizer.tokenize("new\u{7}line\u{200B}s\tok") == ["new", "##lines", "ok"])
        #expect(tokenizer.tokenize("un\u{7}aff\u{200B}able") == ["una", "##ffa", "##ble"])
        #expect(try tokenizer.encode("hello world", maxLength: 512).ids == [101, 7592, 2088, 102])
    }

    @Test("special tokens written in the text stay whole, case and all")
    func specialTokensInText() throws {
        let tokenizer = try RealModel.tokenizer()
        #expect(tokenizer.tokenize("a [MASK] b[SEP]c [mask]") == ["a", "[MASK]", "b", "[SEP]", "c", "[", "mask", "]"])
        #expect(tokenizer.tokenize("[CLS][PAD][UNK]") == ["[CLS]", "[PAD]", "[UNK]"])
        #expect(tokenizer.tokenize("[SE P] [") == ["[", "se", "p", "]", "["])
    }

    @Test("encode: [CLS] … [SEP], truncated to maxLength; a mask of ones")
    func encode() throws {
        let tokenizer = try WordPieceTokenizer(vocabulary: Self.smallVocabulary)
        let full = try tokenizer.encode("unwanted running", maxLength: 100)
        #expect(full.tokens == ["[CLS]", "un", "##want", "##ed", "runn", "##ing", "[SEP]"])
        #expect(full.ids == [2, 8, 5, 6, 9, 10, 3])
        #expect(full.attentionMask == [Float](repeating: 1, count: 7))
        #expect(!full.truncated)
        let cut = try tokenizer.encode("unwanted running", maxLength: 4)
        #expect(cut.tokens == ["[CLS]", "un", "##want", "[SEP]"])
        #expect(cut.truncated)
        #expect(try tokenizer.encode("unwanted", maxLength: 2).tokens == ["[CLS]", "[SEP]"])
        #expect(try tokenizer.encode("", maxLength: 8).tokens == ["[CLS]", "[SEP]"])
        #expect(try tokenizer.encode("unwanted", maxLength: 5).truncated == false)
        expectDataError(containing: ["at least 2", "got 1"]) { _ = try tokenizer.encode("a", maxLength: 1) }
    }

    @Test("batch encode: padded with [PAD] to the longest row, mask 0 at padding, flat row-major arrays")
    func batch() throws {
        let tokenizer = try WordPieceTokenizer(vocabulary: Self.smallVocabulary)
        let batch = try tokenizer.encode(batch: ["want", "unwanted running", ""], maxLength: 6)
        #expect(batch.shape == [3, 6])
        #expect(batch.lengths == [3, 6, 2])
        #expect(batch.ids == [2, 4, 3, 0, 0, 0,
                              2, 8, 5, 6, 9, 3,
                              2, 3, 0, 0, 0, 0])
        #expect(batch.attentionMask == [1, 1, 1, 0, 0, 0,
                                        1, 1, 1, 1, 1, 1,
                                        1, 1, 0, 0, 0, 0])
        #expect(Array(batch.ids(row: 1)) == [2, 8, 5, 6, 9, 3])
        #expect(tokenizer.tokens(batch.ids(row: 0)) == ["[CLS]", "want", "[SEP]", "[PAD]", "[PAD]", "[PAD]"])
        // Shorter texts only: padded to the longest of them, not to maxLength.
        #expect(try tokenizer.encode(batch: ["want", "want want"], maxLength: 64).shape == [2, 4])
        // The padding id comes from the vocabulary.
        let shifted = try WordPieceTokenizer(vocabulary: ["[UNK]", "[CLS]", "[SEP]", "want", "[PAD]"])
        #expect(try shifted.encode(batch: ["want want", ""], maxLength: 8).ids == [1, 3, 3, 2, 1, 2, 4, 4])
        expectDataError(containing: ["at least one text"]) { _ = try tokenizer.encode(batch: [], maxLength: 8) }
    }

    @Test("vocabulary files: one token per line, CRLF accepted; missing, empty or incomplete ones are errors")
    func vocabularyFiles() throws {
        let directory = try TemporaryDirectory()
        let crlf = try directory.write("crlf.txt", text: Self.smallVocabulary.joined(separator: "\r\n") + "\r\n")
        let tokenizer = try WordPieceTokenizer(contentsOf: URL(fileURLWithPath: crlf))
        #expect(tokenizer.vocabulary == Self.smallVocabulary)
        #expect(tokenizer.id(of: "##ing") == 10)
        #expect(tokenizer.id(of: "##ING") == nil)
        let unterminated = try directory.write("plain.txt", text: Self.smallVocabulary.joined(separator: "\n"))
        #expect(try WordPieceTokenizer(contentsOf: URL(fileURLWithPath: unterminated)).vocabularySize == 14)
        // Python's universal newlines: a lone carriage return ends a line too; an empty line is an entry.
        let mixed = try directory.write("mixed.txt", text: "[PAD]\r[UNK]\n\n[CLS]\r\n[SEP]\n")
        #expect(try WordPieceTokenizer(contentsOf: URL(fileURLWithPath: mixed)).vocabulary == ["[PAD]", "[UNK]", "", "[CLS]", "[SEP]"])

        let missing = directory.file("vocab.txt")
        expectDataError(containing: [missing, "not found", "vocab.txt"]) {
            _ = try WordPieceTokenizer(contentsOf: URL(fileURLWithPath: missing))
        }
        let empty = try directory.write("empty.txt", text: "")
        expectDataError(containing: [empty, "empty"]) { _ = try WordPieceTokenizer(contentsOf: URL(fileURLWithPath: empty)) }
        let noClass = try directory.write("nocls.txt", text: "[PAD]\n[UNK]\n[SEP]\nword\n")
        expectDataError(containing: [noClass, "'[CLS]'"]) { _ = try WordPieceTokenizer(contentsOf: URL(fileURLWithPath: noClass)) }
        let binary = try directory.write("binary.txt", [0xFF, 0xFE, 0x00, 0x41])
        expectDataError(containing: [binary, "UTF-8"]) { _ = try WordPieceTokenizer(contentsOf: URL(fileURLWithPath: binary)) }
        expectDataError(containing: ["empty"]) { _ = try WordPieceTokenizer(vocabulary: []) }
    }

    @Test("speed: 10,568 texts in well under 5 s, even in a debug build (0.4 s measured for movie-snippets)")
    func speed() throws {
        let tokenizer = try RealModel.tokenizer()
        let texts = (0..<10_568).map { i in
            "The film's \(i)th scene is an unbelievably moving, café-style portrait of naïve ambition \u{2014} "
                + (i % 3 == 0 ? "hyperparameterization aside!" : "and it works.")
        }
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            for start in stride(from: 0, to: texts.count, by: 64) {
                _ = try tokenizer.encode(batch: Array(texts[start..<min(start + 64, texts.count)]), maxLength: 64)
            }
        }
        #expect(elapsed < .seconds(5), "tokenising \(texts.count) texts took \(elapsed)")
    }
}
