import Foundation

/// Where labelled texts come from, as named by a `--data` string: a built-in corpus, or a CSV/TSV
/// file with a text column and a label column.
public enum TextSource: Sendable, Equatable {
    /// A corpus that `tools/setup` fetches.
    case corpus(TextCorpus)
    /// A CSV file (TSV by its `.tsv` suffix, optionally gzip-compressed) with a header row; each
    /// row gives a text in `textColumn` and its class in `labelColumn`.
    case file(path: String, textColumn: String, labelColumn: String)

    /// The text column a file source reads unless told otherwise.
    public static let defaultTextColumn = "text"
    /// The label column a file source reads unless told otherwise.
    public static let defaultLabelColumn = "label"

    /// Interprets a `--data` string: a corpus name (``TextCorpus``) or a path ending in `.csv` or
    /// `.tsv` (optionally `.gz`), whose columns default to `text` and `label`.
    ///
    /// Throws for a string that is neither (the message lists the corpora), or for columns given
    /// with a corpus, which has its own. A missing file is reported when loading.
    public static func resolve(_ spec: String, textColumn: String? = nil, labelColumn: String? = nil) throws -> TextSource {
        if let corpus = TextCorpus(rawValue: spec.lowercased()) {
            if let column = textColumn ?? labelColumn {
                throw DataError.invalidRequest(
                    "--data \(corpus.rawValue) is a built-in corpus with its own texts and labels; '\(column)' names a column, which only a CSV/TSV file has")
            }
            return .corpus(corpus)
        }
        let lowercased = spec.lowercased()
        guard [".csv", ".tsv", ".csv.gz", ".tsv.gz"].contains(where: { lowercased.hasSuffix($0) }) else {
            throw DataError.invalidRequest(
                "--data '\(spec)': not a text corpus or a .csv/.tsv file; the known corpora are: \(TextCorpus.knownNames)")
        }
        return .file(path: spec, textColumn: textColumn ?? defaultTextColumn, labelColumn: labelColumn ?? defaultLabelColumn)
    }

    /// Loads the texts and splits them (sample `i` is a test sample when `i % 5 == 4`); corpora are
    /// read from `dataDirectory` (``CortadoData/directory`` unless given).
    public func load(dataDirectory: String = CortadoData.directory) throws -> TextSplit {
        switch self {
        case let .corpus(corpus):
            return try corpus.load(dataDirectory: dataDirectory)
        case let .file(path, textColumn, labelColumn):
            return try CSVTable.read(path: path).textSplit(textColumn: textColumn, labelColumn: labelColumn)
        }
    }
}
