extension CSVTable {
    /// The table as numbers: column `target` gives each sample's real-valued target, every other
    /// column is a feature, in header order; samples have shape `[featureCount]`.
    ///
    /// Throws if `target` is not a column (the message lists the columns), if no feature column
    /// is left, or if a cell is not a finite number (the message names the row and column).
    public func dataset(target: String) throws -> Dataset {
        let wanted = target.trimmingCharacters(in: .whitespaces)
        let matches = columns.indices.filter { columns[$0] == wanted }
        guard let targetColumn = matches.first else {
            throw DataError.invalidRequest(
                "\(path): no column named '\(target)' for the target; the columns are: \(columns.map { "'\($0)'" }.joined(separator: ", "))")
        }
        guard matches.count == 1 else {
            throw DataError.invalidRequest("\(path): \(matches.count) columns are named '\(wanted)', so the target is ambiguous")
        }
        let featureColumns = columns.indices.filter { $0 != targetColumn }
        guard !featureColumns.isEmpty else {
            throw DataError.invalidRequest(
                "\(path): no feature columns: every column except the target '\(wanted)' is a feature, and there are none")
        }
        var features: [Float] = []
        features.reserveCapacity(rows.count * featureColumns.count)
        var targets: [Float] = []
        targets.reserveCapacity(rows.count)
        for (row, fields) in rows.enumerated() {
            for column in featureColumns {
                features.append(try number(fields[column], row: row, column: column))
            }
            targets.append(try number(fields[targetColumn], row: row, column: targetColumn))
        }
        return try Dataset(features: features, sampleShape: [featureColumns.count], targets: .values(targets))
    }

    /// The values of `names` (in that order) for every row, flat, row after row: the features of
    /// rows that may lack the target column (prediction). Throws naming a missing column, or the
    /// row and column of a cell that is not a finite number.
    public func features(columns names: [String]) throws -> [Float] {
        let indices = try names.map { name -> Int in
            guard let index = columns.firstIndex(of: name) else {
                throw DataError.invalidRequest(
                    "\(path): no column named '\(name)'; the model needs the columns \(names.map { "'\($0)'" }.joined(separator: ", "))")
            }
            return index
        }
        var values: [Float] = []
        values.reserveCapacity(rows.count * indices.count)
        for (row, fields) in rows.enumerated() {
            for column in indices { values.append(try number(fields[column], row: row, column: column)) }
        }
        return values
    }

    /// The names of the feature columns `dataset(target:)` uses, in order.
    public func featureColumns(target: String) -> [String] {
        let wanted = target.trimmingCharacters(in: .whitespaces)
        return columns.filter { $0 != wanted }
    }

    /// The cell as a finite `Float`, or an error naming the file, row and column.
    private func number(_ cell: String, row: Int, column: Int) throws -> Float {
        let text = cell.trimmingCharacters(in: .whitespaces)
        if let value = Float(text), value.isFinite { return value }
        let problem = text.isEmpty ? "the cell is empty; expected a number" : "'\(cell)' is not a finite number"
        throw DataError.malformed(file: path, problem: "line \(rowLines[row]), column '\(columns[column])': \(problem)")
    }
}
