/// Reads Hutto and Gilbert's `movieReviewSnippets_GroundTruth.txt`: a header `id<TAB>sentiment<TAB>text`,
/// then one snippet per line with its mean sentiment score (from −4 to +4).
enum MovieSnippetsFile {
    /// The classes, in label order.
    static let classNames = ["negative", "positive"]

    /// The snippets scored above or below 0, in file order: label 1 (`positive`) for a score above
    /// 0, 0 (`negative`) below; throws naming the line of a row that is not `id<TAB>score<TAB>text`.
    static func parse(_ bytes: [UInt8], path: String) throws -> TextDataset {
        let lines = TextLines.split(bytes).filter { !$0.text.isEmpty }
        guard let header = lines.first else {
            throw DataError.malformed(file: path, problem: "empty file: expected the header 'id<TAB>sentiment<TAB>text', then one snippet per line")
        }
        guard header.text.split(separator: "\t", omittingEmptySubsequences: false) == ["id", "sentiment", "text"] else {
            throw DataError.malformed(
                file: path, problem: "line \(header.number): expected the header 'id<TAB>sentiment<TAB>text', found '\(header.text.prefix(80))'")
        }
        var texts: [String] = []
        var labels: [Int32] = []
        for line in lines.dropFirst() {
            let fields = line.text.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, let score = Double(fields[1]), score.isFinite else {
                throw DataError.malformed(
                    file: path, problem: "line \(line.number): expected 'id<TAB>score<TAB>text' with a numeric score, found '\(line.text.prefix(80))'")
            }
            if score == 0 { continue }
            texts.append(String(fields[2]))
            labels.append(score > 0 ? 1 : 0)
        }
        return try TextDataset(texts: texts, labels: labels, classNames: classNames)
    }
}
