/// A training set and the held-out set to evaluate on.
public struct DatasetSplit: Sendable {
    /// The samples to train on.
    public var train: Dataset
    /// The samples to evaluate on, never trained on.
    public var test: Dataset

    /// A split from its two parts.
    public init(train: Dataset, test: Dataset) {
        self.train = train
        self.test = test
    }
}

extension DatasetSplit {
    /// Both sets with whole-number targets turned into class labels, sharing one class count: the
    /// largest label in either set + 1 (at least 2).
    public func classifying() throws -> DatasetSplit {
        func largest(_ dataset: Dataset) -> Float {
            if case let .values(values) = dataset.targets { return values.filter { $0.isFinite }.max() ?? 0 }
            return Float((dataset.classCount ?? 1) - 1)
        }
        let top = max(largest(train), largest(test))
        let classCount = top >= 0 && top < 65_536 ? max(Int(top) + 1, 2) : nil
        return DatasetSplit(train: try train.classifying(classCount: classCount), test: try test.classifying(classCount: classCount))
    }
}

extension Dataset {
    /// Splits in file order: sample `i` (0-based) goes to the test set when `i % 5 == 4`, to the
    /// training set otherwise, so every fifth row is held out and the split never depends on a seed.
    public func everyFifthHeldOut() -> DatasetSplit {
        let indices = 0..<count
        return DatasetSplit(
            train: selecting(indices.filter { $0 % 5 != 4 }),
            test: selecting(indices.filter { $0 % 5 == 4 }))
    }

    /// Turns real-valued targets that are whole numbers `0, 1, 2, …` into class labels, with
    /// `classCount` as given or else the largest label + 1 (at least 2); a set that has labels
    /// already is returned as is.
    public func classifying(classCount requested: Int? = nil) throws -> Dataset {
        guard case let .values(values) = targets else { return self }
        var labels: [Int32] = []
        labels.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            guard value >= 0, value < 65_536, value.rounded() == value else {
                throw DataError.invalidRequest(
                    "sample \(index + 1) has target \(value); class labels must be whole numbers 0, 1, 2, … (below 65536)")
            }
            labels.append(Int32(value))
        }
        let classCount = requested ?? max(Int(labels.max() ?? 0) + 1, 2)
        if let largest = labels.max(), Int(largest) >= classCount {
            throw DataError.invalidRequest("target \(largest) is out of range for \(classCount) classes (0..<\(classCount))")
        }
        return try Dataset(features: features, sampleShape: sampleShape, targets: .classes(labels: labels, classCount: classCount))
    }
}
