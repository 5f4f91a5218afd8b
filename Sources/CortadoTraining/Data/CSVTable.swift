import Foundation

/// A table read from a CSV (or TSV) file: a header row naming the columns, then data rows.
///
/// Quoting follows RFC 4180: a field in double quotes may hold delimiters, line breaks and doubled
/// quotes (`""` for `"`). Lines end in LF or CRLF; blank lines are skipped; a UTF-8 byte-order mark
/// is ignored. Every data row must have as many fields as the header.
public struct CSVTable: Sendable, Equatable {
    /// The largest file accepted (4 GiB).
    public static let maximumByteCount = 1 << 32

    /// The file the table came from, for messages.
    public let path: String
    /// The column names from the header row, with surrounding spaces removed.
    public let columns: [String]
    /// The data rows, each with one field per column.
    public let rows: [[String]]
    /// For each data row, the 1-based line of the file it starts on (the header is on line 1
    /// unless blank lines come first), as a text editor numbers lines.
    public let rowLines: [Int]

    /// Reads `path` (gzip-compressed or plain); fields are separated by tabs when the name ends in
    /// `.tsv` or `.tsv.gz`, by commas otherwise.
    public static func read(path: String) throws -> CSVTable {
        let reader = try GzipFileReader(path: path, expected: "expected a CSV file with a header row")
        let bytes = try reader.readToEnd(limit: maximumByteCount)
        return try parse(bytes, delimiter: delimiter(forPath: path), path: path)
    }

    /// The delimiter a file name implies: tab for `.tsv` (optionally `.gz`), comma otherwise.
    public static func delimiter(forPath path: String) -> Character {
        let name = path.lowercased()
        return name.hasSuffix(".tsv") || name.hasSuffix(".tsv.gz") ? "\t" : ","
    }

    /// Parses CSV text in `bytes` (UTF-8) with `delimiter` (an ASCII character); `path` names it in messages.
    public static func parse(_ bytes: [UInt8], delimiter: Character, path: String) throws -> CSVTable {
        guard let separator = delimiter.asciiValue, separator != quote, separator != lineFeed, separator != carriageReturn else {
            throw DataError.invalidRequest("a CSV delimiter must be an ASCII character other than a quote or line break, got \(delimiter)")
        }
        var parser = CSVParser(bytes: bytes, delimiter: separator, path: path)
        var records = try parser.records()
        guard !records.isEmpty else {
            throw DataError.malformed(
                file: path, problem: "empty file: expected a header row naming the columns, then one row per sample")
        }
        let header = records.removeFirst()
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        guard !records.isEmpty else {
            throw DataError.malformed(
                file: path, problem: "has a header (columns: \(columns.joined(separator: ", "))) but no data rows")
        }
        for record in records where record.fields.count != columns.count {
            throw DataError.malformed(
                file: path,
                problem: "line \(record.line) has \(record.fields.count) fields, but the header has \(columns.count) (\(columns.joined(separator: ", ")))")
        }
        return CSVTable(path: path, columns: columns, rows: records.map(\.fields), rowLines: records.map(\.line))
    }

    /// A table from parts already in memory; every row must have one field per column.
    public init(path: String, columns: [String], rows: [[String]], rowLines: [Int]) {
        self.path = path
        self.columns = columns
        self.rows = rows
        self.rowLines = rowLines
    }
}

private let quote = UInt8(ascii: "\"")
private let lineFeed = UInt8(ascii: "\n")
private let carriageReturn = UInt8(ascii: "\r")

/// One record of a CSV file and the line it starts on.
private struct CSVRecord {
    var fields: [String]
    var line: Int
}

/// A single pass over CSV bytes that splits them into records of fields.
private struct CSVParser {
    let bytes: [UInt8]
    let delimiter: UInt8
    let path: String
    private var position = 0
    private var line = 1

    init(bytes: [UInt8], delimiter: UInt8, path: String) {
        self.bytes = bytes
        self.delimiter = delimiter
        self.path = path
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
    }

    /// Every non-blank record, in file order.
    mutating func records() throws -> [CSVRecord] {
        var records: [CSVRecord] = []
        while position < bytes.count {
            let start = line
            var fields: [String] = []
            var blank = true
            while true {
                let (field, quoted) = try nextField()
                fields.append(field)
                if quoted || !field.isEmpty { blank = false }
                if position < bytes.count, bytes[position] == delimiter {
                    position += 1
                    blank = false
                    continue
                }
                skipLineBreak()
                break
            }
            if !blank { records.append(CSVRecord(fields: fields, line: start)) }
        }
        return records
    }

    /// Reads one field, leaving `position` at the delimiter, line break or end that follows it.
    private mutating func nextField() throws -> (String, quoted: Bool) {
        guard position < bytes.count, bytes[position] == quote else {
            let start = position
            while position < bytes.count, bytes[position] != delimiter, bytes[position] != lineFeed, bytes[position] != carriageReturn {
                position += 1
            }
            return (String(decoding: bytes[start..<position], as: UTF8.self), false)
        }
        let openingLine = line
        position += 1
        var field: [UInt8] = []
        while true {
            guard position < bytes.count else {
                throw DataError.malformed(
                    file: path, problem: "line \(openingLine): a quoted field opens here and never closes (a \" is missing)")
            }
            let byte = bytes[position]
            position += 1
            if byte == quote {
                if position < bytes.count, bytes[position] == quote {
                    field.append(quote)
                    position += 1
                    continue
                }
                break
            }
            if byte == lineFeed { line += 1 }
            field.append(byte)
        }
        if position < bytes.count, bytes[position] != delimiter, bytes[position] != lineFeed, bytes[position] != carriageReturn {
            let character = String(decoding: [bytes[position]], as: UTF8.self)
            throw DataError.malformed(
                file: path,
                problem: "line \(line): unexpected '\(character)' after the closing quote of a field (write \"\" for a quote inside a quoted field)")
        }
        return (String(decoding: field, as: UTF8.self), true)
    }

    /// Consumes one LF, CRLF or lone CR, if there is one, and counts the line.
    private mutating func skipLineBreak() {
        guard position < bytes.count else { return }
        if bytes[position] == carriageReturn {
            position += 1
            if position < bytes.count, bytes[position] == lineFeed { position += 1 }
        } else if bytes[position] == lineFeed {
            position += 1
        }
        line += 1
    }
}
