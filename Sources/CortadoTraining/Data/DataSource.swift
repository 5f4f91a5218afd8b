import Foundation

/// Where a data set comes from, as named by a `--data` string: a built-in name, a directory in
/// MNIST format, or a CSV/TSV file.
public enum DataSource: Sendable, Equatable {
    /// A directory holding the four MNIST-format IDX files; `builtInName` is set for built-in names.
    case mnistDirectory(path: String, builtInName: String?)
    /// A CSV file (or a TSV file, by its `.tsv` suffix), optionally gzip-compressed.
    case csv(path: String)

    /// Built-in data set names, each with its directory and the Debian package that installs it.
    public static let builtIn: [String: (directory: String, package: String)] = [
        "fashion-mnist": ("/usr/share/datasets/fashion-mnist", "dataset-fashion-mnist"),
    ]

    /// Interprets a `--data` string: `fashion-mnist` → its Debian directory; a path ending in
    /// `.csv` or `.tsv` (optionally `.gz`) → that file; an existing directory → MNIST format.
    ///
    /// Missing files are reported when loading, so this only throws for a string that fits none of these.
    public static func resolve(_ spec: String) throws -> DataSource {
        if let builtIn = builtIn[spec.lowercased()] {
            return .mnistDirectory(path: builtIn.directory, builtInName: spec.lowercased())
        }
        let lowercased = spec.lowercased()
        if [".csv", ".tsv", ".csv.gz", ".tsv.gz"].contains(where: { lowercased.hasSuffix($0) }) {
            return .csv(path: spec)
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: spec, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return .mnistDirectory(path: spec, builtInName: nil) }
            throw DataError.invalidRequest(
                "--data '\(spec)': a data file must end in .csv or .tsv (optionally .gz); for MNIST-format IDX files give their directory")
        }
        let names = builtIn.keys.sorted().joined(separator: ", ")
        throw DataError.notFound(
            path: spec,
            expected: "--data takes a built-in name (\(names)), a directory of MNIST-format IDX files, or a .csv/.tsv file")
    }

    /// Loads the training and test sets.
    ///
    /// MNIST-format directories give their own train and t10k sets, with class labels. A CSV file
    /// needs `target` (the column to predict); rows `i % 5 == 4` form the test set, targets stay
    /// real values (call ``DatasetSplit/classifying()`` for class labels), and features are
    /// standardised with statistics fitted on the training rows, returned for the checkpoint.
    public func load(target: String? = nil) throws -> LoadedData {
        switch self {
        case let .mnistDirectory(path, builtInName):
            let hint = builtInName.flatMap { name in
                DataSource.builtIn[name].map { "install the Debian package \($0.package) (or run tools/setup) to get \(name)" }
            }
            if let target {
                throw DataError.invalidRequest(
                    "--target '\(target)' applies to CSV data; \(path) is an MNIST-format directory with its own labels")
            }
            return LoadedData(split: try MNISTFormat.load(directory: path, missingHint: hint), standardization: nil)
        case let .csv(path):
            let table = try CSVTable.read(path: path)
            guard let target else {
                throw DataError.invalidRequest(
                    "\(path): CSV data needs --target COLUMN to say which column to predict; the columns are: \(table.columns.map { "'\($0)'" }.joined(separator: ", "))")
            }
            let split = try table.dataset(target: target).everyFifthHeldOut()
            guard split.test.count > 0 else {
                throw DataError.malformed(
                    file: path, problem: "has \(table.rows.count) data rows; at least 5 are needed, since every fifth row is held out for testing")
            }
            let standardization = FeatureStandardization.fit(to: split.train)
            let standardized = DatasetSplit(
                train: try standardization.apply(to: split.train), test: try standardization.apply(to: split.test))
            return LoadedData(split: standardized, standardization: standardization)
        }
    }
}

/// A loaded data set: the split, and the standardisation applied to it (CSV only) for the checkpoint.
public struct LoadedData: Sendable {
    /// The training and test sets, ready to batch.
    public var split: DatasetSplit
    /// The feature standardisation fitted on the training set and applied to both, or `nil` if none was.
    public var standardization: FeatureStandardization?

    /// Loaded data from its parts.
    public init(split: DatasetSplit, standardization: FeatureStandardization?) {
        self.split = split
        self.standardization = standardization
    }
}
