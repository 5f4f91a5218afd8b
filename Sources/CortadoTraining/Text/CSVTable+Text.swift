extension CSVTable {
    /// The table as labelled texts, split in row order (row `i` is a test sample when `i % 5 == 4`).
    ///
    /// Labels may be any strings or integers; the classes are the distinct labels of all rows,
    /// sorted numerically when every label is an integer (and then named in plain decimal, so `07`
    /// is class `7`), else in Unicode code-point order. Surrounding spaces are trimmed from labels.
    ///
    /// Throws, naming the file, if a column is missing (listing the columns there are), if a text
    /// or label is empty (naming the line), if there are fewer than 5 rows (no test sample), or if
    /// the training rows hold fewer than 2 classes.
    public func textSplit(textColumn: String, labelColumn: String) throws -> TextSplit {
        let textIndex = try column(named: textColumn, role: "text")
        let labelIndex = try column(named: labelColumn, role: "label")
        var texts: [String] = []
        var labelNames: [String] = []
        for (fields, line) in zip(rows, rowLines) {
            let text = fields[textIndex]
            guard text.contains(where: { !$0.isWhitespace }) else {
                throw DataError.malformed(file: path, problem: "line \(line): the text in column '\(columns[textIndex])' is empty")
            }
            let label = fields[labelIndex].trimmingCharacters(in: .whitespaces)
            guard !label.isEmpty else {
                throw DataError.malformed(file: path, problem: "line \(line): the label in column '\(columns[labelIndex])' is empty")
            }
            texts.append(text)
            labelNames.append(label)
        }
        guard texts.count >= 5 else {
            throw DataError.malformed(
                file: path, problem: "has \(texts.count) data rows; at least 5 are needed, since every fifth row is held out for testing")
        }
        let (classNames, labels) = Self.classes(of: labelNames)
        let split = TextSplit.everyFifthHeldOut(try TextDataset(texts: texts, labels: labels, classNames: classNames))
        let trainingClasses = split.train.classCounts.enumerated().filter { $0.element > 0 }.map { classNames[$0.offset] }
        guard trainingClasses.count >= 2 else {
            throw DataError.malformed(
                file: path,
                problem: "every training row has the label '\(trainingClasses.first ?? "")' in column '\(columns[labelIndex])'; a classifier needs at least 2 classes to learn from")
        }
        return split
    }

    /// The index of the column named `name`, or an error naming the file and listing the columns.
    private func column(named name: String, role: String) throws -> Int {
        let wanted = name.trimmingCharacters(in: .whitespaces)
        let matches = columns.indices.filter { columns[$0] == wanted }
        guard let index = matches.first else {
            throw DataError.invalidRequest(
                "\(path): no column named '\(name)' for the \(role); the columns are: \(columns.map { "'\($0)'" }.joined(separator: ", "))")
        }
        guard matches.count == 1 else {
            throw DataError.invalidRequest("\(path): \(matches.count) columns are named '\(wanted)', so the \(role) column is ambiguous")
        }
        return index
    }

    /// The sorted class names of `labels` and each label's class index.
    private static func classes(of labels: [String]) -> (names: [String], indices: [Int32]) {
        let integers = labels.map { Int($0) }
        let names: [String]
        let keys: [String]
        if integers.allSatisfy({ $0 != nil }) {
            let values = integers.map { $0! }
            keys = values.map(String.init)
            names = Set(values).sorted().map(String.init)
        } else {
            keys = labels
            names = Set(labels).sorted { Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
        }
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($0.element, Int32($0.offset)) })
        return (names, keys.map { index[$0]! })
    }
}
