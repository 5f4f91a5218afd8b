import Foundation
import Testing

/// Small labelled text files for the command-line tests of the text models, and the checks they share.
enum TextFixtures {
    /// A separable sentiment CSV (`label,text`): positive texts hold a praising word, negative ones a
    /// damning word, among filler that each pair of rows shares (so only the key word tells the
    /// classes apart); quoted cells with commas exercise RFC 4180 quoting. With `varyingLengths`
    /// the texts have 3 to 7 words, so batches need padding; otherwise 6.
    static func sentimentCSV(in directory: TemporaryDirectory, rows: Int = 160, varyingLengths: Bool = false) throws -> String {
        let praise = ["great", "lovely", "charming", "superb"], damn = ["awful", "boring", "dull", "clumsy"]
        let filler = ["the", "film", "plot", "actors", "was", "a", "story", "quite", "really", "music"]
        var lines = ["label,text"]
        for i in 0..<rows {
            let positive = i % 2 == 0
            let key = (positive ? praise : damn)[(i / 2) % 4]
            let label = positive ? "pos" : "neg"
            if varyingLengths {
                let words = (0..<(2 + i % 5)).map { filler[((i / 2) * 7 + $0 * 3) % filler.count] }
                lines.append("\(label),\"\(words[0]), \(key) \(words.dropFirst().joined(separator: " "))\"")
            } else {
                let words = (0..<5).map { filler[((i / 2) * 7 + $0 * 3) % filler.count] }
                lines.append("\(label),\"\(words[0]) \(words[1]), \(key) \(words[2]) \(words[3]) \(words[4])\"")
            }
        }
        return try directory.write("reviews.csv", text: lines.joined(separator: "\n") + "\n")
    }

    /// A three-class TSV (`text<TAB>label`): 60 rows `word <key> other` labelled `<key>`, for
    /// alpha, beta and gamma in turn.
    static func threeClassTSV(in directory: TemporaryDirectory) throws -> String {
        let keys = ["alpha", "beta", "gamma"]
        let lines = ["text\tlabel"] + (0..<60).map { "word \(keys[$0 % 3]) other\t\(keys[$0 % 3])" }
        return try directory.write("three.tsv", text: lines.joined(separator: "\n") + "\n")
    }

    /// Checks a model trained on ``threeClassTSV(in:)``: its last epoch (from `--json` output) has
    /// no binary scores and accuracy ≥ 0.9, and `checkpoint` predicts "gamma" with three probabilities.
    static func expectThreeClassModel(
        trainOutput: String, checkpoint: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let last = try #require(jsonLines(trainOutput).last, sourceLocation: sourceLocation)
        #expect(last["test_precision"] == nil, "precision is for two classes only", sourceLocation: sourceLocation)
        #expect((last["test_accuracy"] as? Double ?? 0) >= 0.9, sourceLocation: sourceLocation)
        let predict = try Cortado.run(["predict", "--checkpoint", checkpoint, "--text", "word gamma other", "--json"])
        let row = try #require(jsonLines(predict.stdout).first, sourceLocation: sourceLocation)
        #expect(row["class_name"] as? String == "gamma", sourceLocation: sourceLocation)
        #expect((row["probabilities"] as? [Double])?.count == 3, sourceLocation: sourceLocation)
    }
}

/// The JSON objects among `text`'s lines (other lines are skipped).
func jsonLines(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
}
