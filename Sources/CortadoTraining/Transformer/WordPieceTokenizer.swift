import Foundation

/// The tokenizer of BERT uncased models: text to word-piece ids with `[CLS]` and `[SEP]`, exactly
/// as Hugging Face's `BertTokenizer` computes them (`do_lower_case=True`).
///
/// ``BertBasicTokenizer`` cleans, lowercases, strips accents and splits the text into words; each
/// word is then cut greedily into the longest vocabulary entries, the first from the start of the
/// word and the rest spelled with the `##` continuation prefix. A word longer than
/// ``maximumCharactersPerWord`` characters, or one with a part no entry matches, becomes a single
/// `[UNK]`. The special tokens (`[CLS]`, `[SEP]`, `[PAD]`, `[UNK]`, `[MASK]`) written literally in
/// a text, case and all, are kept whole, as Hugging Face does.
///
/// ```swift
/// let tokenizer = try WordPieceTokenizer(contentsOf: directory.vocabularyURL)
/// tokenizer.tokenize("Unaffable café!")               // ["una", "##ffa", "##ble", "cafe", "!"]
/// let batch = try tokenizer.encode(batch: texts, maxLength: 128)
/// // batch.ids and batch.attentionMask: [batch.batchSize, batch.sequenceLength], row-major
/// ```
public struct WordPieceTokenizer: Sendable {
    /// Words with more characters (Unicode scalars) than this become `[UNK]`.
    public static let maximumCharactersPerWord = 100
    /// The prefix of vocabulary entries that continue a word.
    public static let continuationPrefix = "##"
    /// The entry for a word that cannot be spelled with the vocabulary.
    public static let unknownToken = "[UNK]"
    /// The entry that starts every sequence.
    public static let classToken = "[CLS]"
    /// The entry that ends every sequence.
    public static let separatorToken = "[SEP]"
    /// The entry that pads short sequences in a batch.
    public static let paddingToken = "[PAD]"
    /// The entry of masked-language-model training; kept whole in a text, like the others.
    public static let maskToken = "[MASK]"

    /// The vocabulary entry of each id (the lines of `vocab.txt`).
    public let vocabulary: [String]
    /// The id of `[UNK]`.
    public let unknownId: Int32
    /// The id of `[CLS]`.
    public let classId: Int32
    /// The id of `[SEP]`.
    public let separatorId: Int32
    /// The id of `[PAD]`.
    public let paddingId: Int32

    /// Every entry, for exact look-ups.
    private let idsByToken: [[UInt8]: Int32]
    /// Every entry, for longest-prefix look-ups.
    private let trie: WordPieceTrie
    /// The node of `##`, where continuation pieces start; `nil` when the vocabulary has none.
    private let continuationNode: Int32?
    /// The special tokens recognised in text, with their ids.
    private let specialTokens: [(bytes: [UInt8], id: Int32)]

    /// Reads a vocabulary file: one entry per line, the id of an entry being its line number from 0.
    ///
    /// - Throws: ``DataError`` naming the file when it is missing, unreadable, not UTF-8, empty, or
    ///   lacks one of `[UNK]`, `[CLS]`, `[SEP]` and `[PAD]`.
    public init(contentsOf url: URL) throws {
        let path = url.path
        let data = try SmallFile.read(url, expected: "a WordPiece vocabulary (vocab.txt: one token per line)", limit: 64 << 20)
        guard let lines = Self.lines(of: data) else {
            throw DataError.malformed(file: path, problem: "a vocabulary file must be UTF-8 text")
        }
        guard !lines.isEmpty else {
            throw DataError.malformed(file: path, problem: "the vocabulary is empty (expected one token per line)")
        }
        try self.init(vocabulary: lines, source: path)
    }

    /// The lines of a text file as Python's `readlines()` splits them (at `\n`, `\r\n` or `\r`),
    /// without their line ends; `nil` when a line is not UTF-8.
    private static func lines(of data: Data) -> [String]? {
        var lines: [String] = []
        var start = data.startIndex
        var index = data.startIndex
        func finishLine() -> Bool {
            guard let line = String(validating: data[start..<index], as: UTF8.self) else { return false }
            lines.append(line)
            return true
        }
        while index < data.endIndex {
            let byte = data[index]
            if byte == 0x0A || byte == 0x0D {
                guard finishLine() else { return nil }
                index += byte == 0x0D && index + 1 < data.endIndex && data[index + 1] == 0x0A ? 2 : 1
                start = index
            } else {
                index += 1
            }
        }
        if start < data.endIndex { guard finishLine() else { return nil } }  // a last line without a line end
        return lines
    }

    /// A tokenizer for `vocabulary`, entry `i` having id `i`.
    ///
    /// - Throws: ``DataError`` when the vocabulary is empty or lacks `[UNK]`, `[CLS]`, `[SEP]` or `[PAD]`.
    public init(vocabulary: [String]) throws {
        try self.init(vocabulary: vocabulary, source: "the vocabulary")
    }

    /// The shared initialiser; `source` names the file (or says "the vocabulary") in errors.
    private init(vocabulary: [String], source: String) throws {
        guard !vocabulary.isEmpty else {
            throw DataError.malformed(file: source, problem: "the vocabulary is empty")
        }
        guard vocabulary.count <= Int(Int32.max) else {
            throw DataError.malformed(file: source, problem: "\(vocabulary.count) entries do not fit 32-bit ids")
        }
        var ids: [[UInt8]: Int32] = [:]
        ids.reserveCapacity(vocabulary.count)
        var trie = WordPieceTrie()
        for (index, entry) in vocabulary.enumerated() {
            let bytes = Array(entry.utf8)
            ids[bytes] = Int32(index)  // a repeated entry keeps its last id, as Hugging Face's loader does
            trie.insert(bytes, id: Int32(index))
        }
        func required(_ token: String) throws -> Int32 {
            guard let id = ids[Array(token.utf8)] else {
                throw DataError.malformed(
                    file: source, problem: "the vocabulary has no '\(token)' entry, which every BERT vocabulary needs")
            }
            return id
        }
        self.vocabulary = vocabulary
        self.unknownId = try required(Self.unknownToken)
        self.classId = try required(Self.classToken)
        self.separatorId = try required(Self.separatorToken)
        self.paddingId = try required(Self.paddingToken)
        self.idsByToken = ids
        self.trie = trie
        self.continuationNode = trie.node(for: Self.continuationPrefix.utf8)
        self.specialTokens = [Self.classToken, Self.separatorToken, Self.paddingToken, Self.unknownToken, Self.maskToken]
            .compactMap { token in ids[Array(token.utf8)].map { (Array(token.utf8), $0) } }
    }

    /// The number of entries.
    public var vocabularySize: Int { vocabulary.count }

    /// The id of the vocabulary entry spelled exactly `token`, or `nil`.
    public func id(of token: String) -> Int32? {
        idsByToken[Array(token.utf8)]
    }

    /// The entry of each id; ids outside the vocabulary read as `[UNK]`.
    public func tokens(_ ids: some Sequence<Int32>) -> [String] {
        ids.map { $0 >= 0 && Int($0) < vocabulary.count ? vocabulary[Int($0)] : Self.unknownToken }
    }

    /// The word pieces of `text`, without `[CLS]`, `[SEP]` or truncation (Hugging Face's `tokenize`).
    public func tokenize(_ text: String) -> [String] {
        tokens(wordPieceIds(text))
    }

    /// The ids of the word pieces of `text`, without `[CLS]`, `[SEP]` or truncation.
    public func wordPieceIds(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        forEachSegment(of: text) { segment in
            switch segment {
            case let .special(id):
                ids.append(id)
            case let .text(part):
                BertBasicTokenizer.forEachWord(in: part) { appendPieces(of: $0, to: &ids) }
            }
        }
        return ids
    }

    /// `[CLS]`, the word pieces of `text` (only the first `maxLength - 2` when there are more),
    /// `[SEP]`: at most `maxLength` ids, as Hugging Face's `tokenizer(text, truncation=True,
    /// max_length=maxLength)`.
    ///
    /// - Throws: ``DataError/invalidRequest(_:)`` when `maxLength` is below 2 (room for `[CLS]` and `[SEP]`).
    public func encode(_ text: String, maxLength: Int) throws -> WordPieceEncoding {
        try Self.validate(maxLength: maxLength)
        let pieces = wordPieceIds(text)
        let kept = min(pieces.count, maxLength - 2)
        let ids = [classId] + pieces.prefix(kept) + [separatorId]
        return WordPieceEncoding(ids: ids, tokens: tokens(ids), truncated: kept < pieces.count)
    }

    /// Encodes each text as ``encode(_:maxLength:)`` does and pads every row with `[PAD]` to the
    /// longest (Hugging Face's `padding=True, truncation=True`); the mask is 0 at padding.
    ///
    /// - Throws: ``DataError/invalidRequest(_:)`` when `texts` is empty or `maxLength` is below 2.
    public func encode(batch texts: [String], maxLength: Int) throws -> WordPieceBatch {
        try Self.validate(maxLength: maxLength)
        guard !texts.isEmpty else { throw DataError.invalidRequest("a batch to encode needs at least one text") }
        let rows = texts.map { text -> [Int32] in
            let pieces = wordPieceIds(text)
            return [classId] + pieces.prefix(maxLength - 2) + [separatorId]
        }
        return WordPieceBatch(padding: rows, paddingId: paddingId)
    }

    /// Checks that `maxLength` leaves room for `[CLS]` and `[SEP]`.
    private static func validate(maxLength: Int) throws {
        guard maxLength >= 2 else {
            throw DataError.invalidRequest(
                "the maximum sequence length must be at least 2 (room for [CLS] and [SEP]), got \(maxLength)")
        }
    }

    /// Appends the word-piece ids of one word (UTF-8 bytes from ``BertBasicTokenizer``), or `[UNK]`.
    private func appendPieces(of word: [UInt8], to ids: inout [Int32]) {
        var characters = 0
        for byte in word where byte & 0xC0 != 0x80 { characters += 1 }
        guard characters <= Self.maximumCharactersPerWord else {
            ids.append(unknownId)
            return
        }
        let firstPiece = ids.count
        var start = 0
        while start < word.count {
            let node = start == 0 ? WordPieceTrie.root : continuationNode
            guard let node, let match = trie.longestMatch(in: word, from: start, startingAt: node) else {
                ids.removeSubrange(firstPiece...)
                ids.append(unknownId)
                return
            }
            ids.append(match.id)
            start = match.end
        }
    }

    /// A stretch of text: a special token written in it, or text between special tokens.
    private enum Segment {
        case special(Int32)
        case text(Substring)
    }

    /// Calls `body` with the special tokens of `text` and the text around them, in order.
    private func forEachSegment(of text: String, _ body: (Segment) -> Void) {
        let utf8 = text.utf8
        guard utf8.contains(UInt8(ascii: "[")) else {
            body(.text(text[...]))
            return
        }
        var textStart = utf8.startIndex
        var index = utf8.startIndex
        while index != utf8.endIndex {
            if utf8[index] == UInt8(ascii: "["),
               let (id, end) = specialToken(in: utf8, at: index) {
                if textStart != index { body(.text(text[textStart..<index])) }
                body(.special(id))
                index = end
                textStart = end
            } else {
                utf8.formIndex(after: &index)
            }
        }
        if textStart != utf8.endIndex { body(.text(text[textStart...])) }
    }

    /// The special token spelled at `index` of `utf8`, with the index after it, or `nil`.
    private func specialToken(in utf8: String.UTF8View, at index: String.Index) -> (Int32, String.Index)? {
        for special in specialTokens {
            var cursor = index
            var matched = true
            for byte in special.bytes {
                guard cursor != utf8.endIndex, utf8[cursor] == byte else {
                    matched = false
                    break
                }
                utf8.formIndex(after: &cursor)
            }
            if matched { return (special.id, cursor) }
        }
        return nil
    }
}
