/// Turns texts into fixed-length sequences of word ids, by the rules of Keras'
/// `Tokenizer(num_words: vocabularySize, oov_token: …)` and `pad_sequences` with their defaults.
///
/// A text is lowercased; each character of Keras' default filter set
/// ``filteredCharacters`` (punctuation, tab and newline; not the apostrophe) becomes a space; the
/// result splits on whitespace into words. Fitting counts the words of the training texts and
/// keeps the most frequent, ties going to the word seen first. Id 0 is padding, id 1 stands for
/// any word outside the vocabulary, and the kept words take ids 2, 3, … in order of frequency, so
/// every id is below ``vocabularySize``:
///
/// ```swift
/// let tokenizer = try Tokenizer(fitting: ["the cat sat", "The dog sat!"], vocabularySize: 5)
/// tokenizer.vocabulary                                  // ["<pad>", "<oov>", "the", "sat", "cat"]
/// try tokenizer.encode("The bird sat.", maxLength: 5)   // [0, 0, 2, 1, 3]
/// ```
///
/// ``encode(_:maxLength:)`` pads at the front and truncates at the front, keeping the end of a long
/// text, so a recurrent layer's last state has read the words nearest the end.
///
/// Words are compared by their Unicode scalars, as Python compares strings. One difference from
/// Keras: Keras splits at spaces only, while this splits at any Unicode whitespace (a carriage
/// return or a no-break space separates words here), and lowercasing maps each character on its
/// own (Python lowercases a final Σ to ς, this to σ).
public struct Tokenizer: Codable, Sendable, Equatable {
    /// The id that pads a short text.
    public static let paddingId: Int32 = 0
    /// The id of every word outside the vocabulary.
    public static let outOfVocabularyId: Int32 = 1
    /// The characters replaced by spaces before splitting: Keras' default `filters`,
    /// ``!"#$%&()*+,-./:;<=>?@[\]^_`{|}~`` with tab and newline.
    public static let filteredCharacters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n"
    /// The vocabulary entry at the padding id; no word can be spelled so, as `<` and `>` are filtered.
    public static let paddingEntry = "<pad>"
    /// The vocabulary entry at the out-of-vocabulary id.
    public static let outOfVocabularyEntry = "<oov>"

    /// The number of ids, padding and out-of-vocabulary included: at most `vocabularySize - 2` words are kept.
    public let vocabularySize: Int
    /// The entry for each id: ``paddingEntry``, ``outOfVocabularyEntry``, then the kept words, most
    /// frequent first. It has fewer than `vocabularySize` entries when the training texts have fewer words.
    public let vocabulary: [String]
    /// The id of each kept word, keyed by its UTF-8 bytes.
    private let idsByWord: [[UInt8]: Int32]

    /// A tokenizer whose vocabulary is the `vocabularySize - 2` most frequent words of `texts`
    /// (the training texts only, so that nothing about the test texts leaks into the model).
    ///
    /// Throws if `vocabularySize` is below 2 or above 2^24 (the largest id a `Float` feature holds exactly).
    public init(fitting texts: some Sequence<String>, vocabularySize: Int) throws {
        try Self.validate(vocabularySize: vocabularySize)
        var positions: [[UInt8]: Int] = [:]
        var words: [String] = []
        var counts: [Int] = []
        for text in texts {
            for word in Self.words(in: text) {
                let key = Array(word.utf8)
                if let position = positions[key] {
                    counts[position] += 1
                } else {
                    positions[key] = words.count
                    words.append(word)
                    counts.append(1)
                }
            }
        }
        // Most frequent first; equal counts keep the order of first appearance (Python's stable sort).
        let ranked = words.indices.sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }
        let kept = ranked.prefix(vocabularySize - 2).map { words[$0] }
        try self.init(vocabulary: [Self.paddingEntry, Self.outOfVocabularyEntry] + kept, vocabularySize: vocabularySize)
    }

    /// A tokenizer with a vocabulary made before (for instance read from a checkpoint): entry 0
    /// must be ``paddingEntry``, entry 1 ``outOfVocabularyEntry``, and the rest distinct words, at
    /// most `vocabularySize` entries in all.
    public init(vocabulary: [String], vocabularySize: Int) throws {
        try Self.validate(vocabularySize: vocabularySize)
        guard vocabulary.count >= 2, vocabulary[0] == Self.paddingEntry, vocabulary[1] == Self.outOfVocabularyEntry else {
            throw DataError.invalidRequest(
                "a tokenizer vocabulary starts with '\(Self.paddingEntry)' and '\(Self.outOfVocabularyEntry)', got \(vocabulary.prefix(2))")
        }
        guard vocabulary.count <= vocabularySize else {
            throw DataError.invalidRequest("a tokenizer vocabulary of \(vocabulary.count) entries does not fit vocabularySize \(vocabularySize)")
        }
        var ids: [[UInt8]: Int32] = [:]
        for (id, word) in vocabulary.enumerated().dropFirst(2) {
            guard Self.words(in: word) == [word] else {
                throw DataError.invalidRequest("tokenizer vocabulary entry \(id), '\(word)', is not a single word as the tokenizer splits text")
            }
            guard ids.updateValue(Int32(id), forKey: Array(word.utf8)) == nil else {
                throw DataError.invalidRequest("tokenizer vocabulary entry \(id), '\(word)', appears more than once")
            }
        }
        self.vocabularySize = vocabularySize
        self.vocabulary = vocabulary
        self.idsByWord = ids
    }

    /// The words of `text`: lowercased, the ``filteredCharacters`` turned into spaces, split at whitespace.
    public static func words(in text: String) -> [String] {
        var words: [String] = []
        var word = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if filteredScalars.contains(scalar) || scalar.properties.isWhitespace {
                if !word.isEmpty { words.append(String(word)) }
                word = String.UnicodeScalarView()
            } else if scalar.properties.changesWhenLowercased {
                word.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else {
                word.append(scalar)
            }
        }
        if !word.isEmpty { words.append(String(word)) }
        return words
    }

    /// The id of `word` (already lowercased and split, as ``words(in:)`` gives it), or ``outOfVocabularyId``.
    public func id(of word: String) -> Int32 {
        idsByWord[Array(word.utf8)] ?? Self.outOfVocabularyId
    }

    /// The ids of every word of `text`, in order, neither padded nor truncated.
    public func ids(of text: String) -> [Int32] {
        Self.words(in: text).map(id(of:))
    }

    /// Exactly `maxLength` ids for `text`: ``paddingId`` first when the text is shorter, only its
    /// last `maxLength` words when it is longer (Keras' `padding='pre', truncating='pre'`).
    /// Throws unless `maxLength` is positive.
    public func encode(_ text: String, maxLength: Int) throws -> [Int32] {
        guard maxLength > 0 else { throw DataError.invalidRequest("the sequence length must be positive, got \(maxLength)") }
        let all = ids(of: text)
        if all.count >= maxLength { return Array(all.suffix(maxLength)) }
        return [Int32](repeating: Self.paddingId, count: maxLength - all.count) + all
    }

    /// The ids as words, padding left out: what the model sees of a text, for inspection.
    public func decode(_ ids: [Int32]) -> [String] {
        ids.filter { $0 != Self.paddingId }.map { Int($0) < vocabulary.count && $0 >= 0 ? vocabulary[Int($0)] : Self.outOfVocabularyEntry }
    }

    /// The JSON keys: the settings and the vocabulary; the word-to-id table is rebuilt on decoding.
    private enum CodingKeys: String, CodingKey {
        case vocabularySize
        case vocabulary
    }

    /// Reads a tokenizer written by ``encode(to:)``, checking it as ``init(vocabulary:vocabularySize:)`` does.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let vocabularySize = try container.decode(Int.self, forKey: .vocabularySize)
        let vocabulary = try container.decode([String].self, forKey: .vocabulary)
        do {
            try self.init(vocabulary: vocabulary, vocabularySize: vocabularySize)
        } catch let error as DataError {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.description, underlyingError: error))
        }
    }

    /// Writes the settings and the vocabulary.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(vocabularySize, forKey: .vocabularySize)
        try container.encode(vocabulary, forKey: .vocabulary)
    }

    /// Two tokenizers are equal when they map every word to the same id.
    public static func == (lhs: Tokenizer, rhs: Tokenizer) -> Bool {
        lhs.vocabularySize == rhs.vocabularySize && lhs.vocabulary.elementsEqual(rhs.vocabulary) { Array($0.utf8) == Array($1.utf8) }
    }

    /// Checks that `vocabularySize` leaves room for a word and that every id is exact as a `Float`.
    private static func validate(vocabularySize: Int) throws {
        guard vocabularySize >= 2, vocabularySize <= 1 << 24 else {
            throw DataError.invalidRequest(
                "the vocabulary size must be between 2 (padding and out-of-vocabulary ids only) and 2^24 (ids exact as Float features), got \(vocabularySize)")
        }
    }

    /// ``filteredCharacters`` as a set of scalars.
    private static let filteredScalars = Set(filteredCharacters.unicodeScalars)
}
