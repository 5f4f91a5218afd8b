import CortadoTraining
import Foundation
import Testing

@Suite("Text: tokenizer")
struct TextTokenizerTests {
    @Test("words: lowercased, Keras' filter characters become spaces, split at whitespace; the apostrophe stays")
    func words() {
        #expect(Tokenizer.words(in: "Hello, World! It's a TEST-case\tnew\nline (really)?")
            == ["hello", "world", "it's", "a", "test", "case", "new", "line", "really"])
        #expect(Tokenizer.words(in: "  several   spaces  ") == ["several", "spaces"])
        #expect(Tokenizer.words(in: "e-mail me@home.com #1 100%") == ["e", "mail", "me", "home", "com", "1", "100"])
        #expect(Tokenizer.words(in: "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n") == [])
        #expect(Tokenizer.words(in: "") == [])
        #expect(Tokenizer.words(in: "Ünïcödé CAFÉ Straße İ") == ["ünïcödé", "café", "straße", "i\u{307}"])
        #expect(Tokenizer.words(in: "'quoted' ''twice''") == ["'quoted'", "''twice''"])
        // Whitespace other than a space also separates words (Keras would keep "a\rb" whole).
        #expect(Tokenizer.words(in: "a\rb\u{A0}c") == ["a", "b", "c"])
    }

    @Test("fitting: the most frequent training words from id 2; 0 pads, 1 is out of vocabulary")
    func fitting() throws {
        let tokenizer = try Tokenizer(fitting: ["the cat sat", "The dog sat!"], vocabularySize: 5)
        #expect(tokenizer.vocabulary == ["<pad>", "<oov>", "the", "sat", "cat"])
        #expect(tokenizer.vocabularySize == 5)
        #expect(try tokenizer.encode("The bird sat.", maxLength: 5) == [0, 0, 2, 1, 3])
        #expect(tokenizer.ids(of: "dog cat THE") == [1, 4, 2])  // "dog" fell outside the 3 kept words
        #expect(tokenizer.id(of: "sat") == 3)
        #expect(tokenizer.id(of: "Sat") == 1)  // ids are looked up for words as words(in:) gives them
        #expect(tokenizer.decode([0, 0, 2, 1, 3]) == ["the", "<oov>", "sat"])
    }

    @Test("ties in frequency go to the word seen first, as in Keras' word_counts")
    func ties() throws {
        let tied = try Tokenizer(fitting: ["b a", "a b c", "c"], vocabularySize: 10)
        #expect(tied.vocabulary == ["<pad>", "<oov>", "b", "a", "c"])
        let ranked = try Tokenizer(fitting: ["x y y", "z z z w"], vocabularySize: 10)
        #expect(ranked.vocabulary == ["<pad>", "<oov>", "z", "y", "x", "w"])
        let cut = try Tokenizer(fitting: ["x y y", "z z z w"], vocabularySize: 4)
        #expect(cut.vocabulary == ["<pad>", "<oov>", "z", "y"])
        #expect(cut.ids(of: "w x y z") == [1, 1, 3, 2])
    }

    @Test("padding and truncation both at the front: the end of a text is kept")
    func preTruncation() throws {
        let tokenizer = try Tokenizer(fitting: ["one two three four five six"], vocabularySize: 10)
        let text = "One, two; three: four - five... six!"
        #expect(try tokenizer.encode(text, maxLength: 3) == [5, 6, 7])
        #expect(try tokenizer.encode(text, maxLength: 6) == [2, 3, 4, 5, 6, 7])
        #expect(try tokenizer.encode(text, maxLength: 8) == [0, 0, 2, 3, 4, 5, 6, 7])
        #expect(try tokenizer.encode("", maxLength: 4) == [0, 0, 0, 0])
        #expect(try tokenizer.encode("?!", maxLength: 2) == [0, 0])
        #expect(try tokenizer.encode("six seven", maxLength: 1) == [1])
    }

    @Test("a vocabulary with only padding and out-of-vocabulary maps every word to 1")
    func smallestVocabulary() throws {
        let tokenizer = try Tokenizer(fitting: ["a b c"], vocabularySize: 2)
        #expect(tokenizer.vocabulary == ["<pad>", "<oov>"])
        #expect(try tokenizer.encode("a b z", maxLength: 4) == [0, 1, 1, 1])
    }

    @Test("bad settings are errors: vocabulary size, sequence length, a hand-made vocabulary")
    func errors() throws {
        expectDataError(containing: ["vocabulary size", "got 1"]) { _ = try Tokenizer(fitting: ["a"], vocabularySize: 1) }
        expectDataError(containing: ["vocabulary size", "2^24"]) { _ = try Tokenizer(fitting: ["a"], vocabularySize: (1 << 24) + 1) }
        let tokenizer = try Tokenizer(fitting: ["a"], vocabularySize: 3)
        expectDataError(containing: ["sequence length must be positive, got 0"]) { _ = try tokenizer.encode("a", maxLength: 0) }
        expectDataError(containing: ["starts with '<pad>' and '<oov>'"]) {
            _ = try Tokenizer(vocabulary: ["a", "b"], vocabularySize: 5)
        }
        expectDataError(containing: ["'a'", "more than once"]) {
            _ = try Tokenizer(vocabulary: ["<pad>", "<oov>", "a", "a"], vocabularySize: 5)
        }
        expectDataError(containing: ["'Two Words'", "not a single word"]) {
            _ = try Tokenizer(vocabulary: ["<pad>", "<oov>", "Two Words"], vocabularySize: 5)
        }
        expectDataError(containing: ["4 entries", "vocabularySize 3"]) {
            _ = try Tokenizer(vocabulary: ["<pad>", "<oov>", "a", "b"], vocabularySize: 3)
        }
    }

    @Test("JSON round trip: settings and vocabulary, and the same ids afterwards")
    func jsonRoundTrip() throws {
        let texts = ["Caf\u{E9} au lait, CAFE\u{301}!", "words and more words", "ünïcödé words"]
        let tokenizer = try Tokenizer(fitting: texts, vocabularySize: 6)
        let json = try JSONEncoder().encode(tokenizer)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(Set(object.keys) == ["vocabularySize", "vocabulary"])
        #expect(object["vocabularySize"] as? Int == 6)
        let decoded = try JSONDecoder().decode(Tokenizer.self, from: json)
        #expect(decoded == tokenizer)
        #expect(decoded.vocabulary == tokenizer.vocabulary)
        for text in texts + ["unseen café words"] {
            #expect(try decoded.encode(text, maxLength: 7) == tokenizer.encode(text, maxLength: 7))
        }
        // The precomposed and the decomposed spelling of "café" are different words, as in Python.
        #expect(tokenizer.id(of: "caf\u{E9}") != tokenizer.id(of: "cafe\u{301}"))

        let damaged = Data(#"{"vocabularySize": 4, "vocabulary": ["<oov>", "<pad>", "a"]}"#.utf8)
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(Tokenizer.self, from: damaged) }
    }
}
