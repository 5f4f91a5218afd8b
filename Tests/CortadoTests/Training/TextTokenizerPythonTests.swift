import CortadoTraining
import Foundation
import Testing

/// Keras' `Tokenizer(num_words=N, oov_token=…)`, `texts_to_sequences` and `pad_sequences` (with
/// `padding='pre', truncating='pre'`), rewritten from Keras' source in a few lines of standard
/// Python. It reads {"train", "texts", "num_words", "maxlen"} as JSON and prints
/// {"vocabulary": the kept words in id order, "sequences": the padded ids of "texts"}.
///
/// One deliberate change: words split with `str.split()` (any whitespace) where Keras has
/// `split(" ")`, as Cortado's tokenizer does.
private let kerasReference = #"""
import json, sys

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'

def text_to_word_sequence(text):
    text = text.lower()
    text = text.translate(str.maketrans({c: " " for c in FILTERS}))
    return [w for w in text.split() if w]

request = json.load(open(sys.argv[1], encoding="utf-8"))
num_words, maxlen = request["num_words"], request["maxlen"]

word_counts = {}  # insertion-ordered, like Keras' OrderedDict
for text in request["train"]:
    for w in text_to_word_sequence(text):
        word_counts[w] = word_counts.get(w, 0) + 1
wcounts = list(word_counts.items())
wcounts.sort(key=lambda x: x[1], reverse=True)
sorted_voc = ["<oov>"] + [wc[0] for wc in wcounts]
word_index = dict(zip(sorted_voc, range(1, len(sorted_voc) + 1)))
oov = word_index["<oov>"]

sequences = []
for text in request["texts"]:
    vect = []
    for w in text_to_word_sequence(text):
        i = word_index.get(w)
        if i is not None and i >= num_words:
            vect.append(oov)
        elif i is not None:
            vect.append(i)
        else:
            vect.append(oov)
    trunc = vect[-maxlen:]
    sequences.append([0] * (maxlen - len(trunc)) + trunc)

vocabulary = [w for w, i in sorted(word_index.items(), key=lambda kv: kv[1]) if 2 <= i < num_words]
print(json.dumps({"vocabulary": vocabulary, "sequences": sequences}))
"""#

/// What the reference script is asked.
private struct ReferenceRequest: Encodable {
    var train: [String]
    var texts: [String]
    var num_words: Int
    var maxlen: Int
}

/// What the reference script answers.
private struct ReferenceAnswer: Decodable {
    var vocabulary: [String]
    var sequences: [[Int32]]
}

@Suite("Text: tokenizer agrees with a Python rewrite of Keras' rules")
struct TextTokenizerPythonTests {
    /// Fits both tokenizers on `train` and expects the same vocabulary and the same ids for `texts`.
    private func expectAgreement(
        train: [String], texts: [String], vocabularySize: Int, maxLength: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let scratch = try TemporaryDirectory()
        let requestURL = scratch.fileURL("request.json")
        try JSONEncoder().encode(ReferenceRequest(train: train, texts: texts, num_words: vocabularySize, maxlen: maxLength)).write(to: requestURL)
        let output = try runPython(kerasReference, arguments: [requestURL.path])
        let answer = try JSONDecoder().decode(ReferenceAnswer.self, from: Data(output.utf8))

        let tokenizer = try Tokenizer(fitting: train, vocabularySize: vocabularySize)
        let ours = Array(tokenizer.vocabulary.dropFirst(2))
        #expect(ours.map { Array($0.unicodeScalars) } == answer.vocabulary.map { Array($0.unicodeScalars) }, sourceLocation: sourceLocation)
        #expect(answer.sequences.count == texts.count, sourceLocation: sourceLocation)
        for (text, expected) in zip(texts, answer.sequences) {
            let actual = try tokenizer.encode(text, maxLength: maxLength)
            #expect(actual == expected, "text: \(text)", sourceLocation: sourceLocation)
        }
    }

    @Test("hand-made texts: punctuation, case, accents, ties, out-of-vocabulary words, long and short texts")
    func handMadeTexts() throws {
        let train = [
            "The movie was GREAT -- truly great!",
            "It's not the movie's fault; the script (by J. Doe) was weak...",
            "Great acting, weak plot. 10/10 would   watch again?",
            "Café, CAFÉ, cafe\u{301}: three spellings; İstanbul & Straße",
            "tab\tseparated\nand new-line separated words, words, words",
            "ties: alpha beta gamma delta",
            "''Quoted'' 'single' \"double\" [brackets] {braces} <angles> @home #tag $5 50% a^b a_b a|b a~b `tick`",
        ]
        let texts = train + [
            "", "!!!", "unseen words only", "great great great great great great great great great great great great",
            "The end is what counts: great, weak, the movie, the script, gamma.",
        ]
        try expectAgreement(train: train, texts: texts, vocabularySize: 12, maxLength: 8)
        try expectAgreement(train: train, texts: texts, vocabularySize: 1_000, maxLength: 30)
        try expectAgreement(train: train, texts: texts, vocabularySize: 2, maxLength: 3)
    }

    @Test("the movie-snippets corpus: vocabulary of its training texts and the ids of test texts")
    func movieSnippets() throws {
        let split = try TextCorpus.movieSnippets.load()
        try expectAgreement(
            train: split.train.texts, texts: Array(split.test.texts.prefix(400)), vocabularySize: 5_000, maxLength: 24)
    }

    @Test("the sms-spam corpus, with its symbols and HTML entities")
    func smsSpam() throws {
        let split = try TextCorpus.smsSpam.load()
        try expectAgreement(train: split.train.texts, texts: Array(split.test.texts.prefix(400)), vocabularySize: 3_000, maxLength: 40)
    }
}
