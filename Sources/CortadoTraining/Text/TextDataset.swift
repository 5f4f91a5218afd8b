/// Labelled texts in memory: one text and one class label per sample, and the names of the classes.
public struct TextDataset: Sendable, Equatable {
    /// The texts, one per sample.
    public let texts: [String]
    /// The class of each text, an index into `classNames`.
    public let labels: [Int32]
    /// The name of each class, in label order (label 0 is `classNames[0]`).
    public let classNames: [String]

    /// A data set from its parts; throws unless there is one label per text and every label
    /// indexes `classNames`.
    public init(texts: [String], labels: [Int32], classNames: [String]) throws {
        guard texts.count == labels.count else {
            throw DataError.invalidRequest("\(texts.count) texts but \(labels.count) labels; a text data set needs one label per text")
        }
        guard !classNames.isEmpty else {
            throw DataError.invalidRequest("a text data set needs at least one class name")
        }
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classNames.count }) {
            throw DataError.invalidRequest("label \(bad) is outside 0..<\(classNames.count) (classes: \(classNames.joined(separator: ", ")))")
        }
        self.texts = texts
        self.labels = labels
        self.classNames = classNames
    }

    /// The number of samples.
    public var count: Int { texts.count }

    /// How many samples each class has, in label order.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classNames.count)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// The samples at `indices`, in that order; every index must be in `0..<count`.
    func selecting<Indices: Collection<Int>>(_ indices: Indices) -> TextDataset {
        TextDataset(checkedTexts: indices.map { texts[$0] }, labels: indices.map { labels[$0] }, classNames: classNames)
    }

    /// Skips validation, for parts of a data set that was already validated.
    private init(checkedTexts: [String], labels: [Int32], classNames: [String]) {
        self.texts = checkedTexts
        self.labels = labels
        self.classNames = classNames
    }
}

/// A training set of texts and the held-out set to evaluate on, sharing one list of classes.
public struct TextSplit: Sendable, Equatable {
    /// The texts to train on (and to fit a ``Tokenizer`` on).
    public let train: TextDataset
    /// The texts to evaluate on, never trained on.
    public let test: TextDataset

    /// The classes both sets use, in label order.
    public var classNames: [String] { train.classNames }

    /// A split from its two parts; throws unless both use the same classes.
    public init(train: TextDataset, test: TextDataset) throws {
        guard train.classNames == test.classNames else {
            throw DataError.invalidRequest(
                "the training and test sets have different classes: [\(train.classNames.joined(separator: ", "))] and [\(test.classNames.joined(separator: ", "))]")
        }
        self.train = train
        self.test = test
    }

    /// Splits `dataset` in its order: sample `i` (0-based) goes to the test set when `i % 5 == 4`,
    /// to the training set otherwise, as ``Dataset/everyFifthHeldOut()`` does for numeric data.
    public static func everyFifthHeldOut(_ dataset: TextDataset) -> TextSplit {
        let indices = 0..<dataset.count
        return TextSplit(
            checkedTrain: dataset.selecting(indices.filter { $0 % 5 != 4 }),
            test: dataset.selecting(indices.filter { $0 % 5 == 4 }))
    }

    /// Skips validation, for parts cut from one data set.
    private init(checkedTrain: TextDataset, test: TextDataset) {
        self.train = checkedTrain
        self.test = test
    }
}
