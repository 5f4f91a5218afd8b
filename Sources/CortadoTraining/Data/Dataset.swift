/// Samples in memory: features as one flat row-major array, a shape per sample, and targets.
///
/// A value type, cheap to copy (the arrays are shared until changed) and safe to hand to a
/// background thread.
public struct Dataset: Sendable, Equatable {
    /// All features, sample after sample; each sample has `featuresPerSample` values.
    public let features: [Float]
    /// The shape of one sample, e.g. `[1, 28, 28]` for an image or `[F]` for a table row.
    public let sampleShape: [Int]
    /// What to predict for each sample.
    public let targets: Targets

    /// A data set from flat features; throws unless features and targets cover the same samples.
    public init(features: [Float], sampleShape: [Int], targets: Targets) throws {
        guard !sampleShape.isEmpty, sampleShape.allSatisfy({ $0 > 0 }) else {
            throw DataError.invalidRequest("a sample shape needs positive dimensions, got \(sampleShape)")
        }
        let perSample = sampleShape.reduce(1, *)
        guard features.count == targets.count * perSample else {
            throw DataError.invalidRequest(
                "\(features.count) feature values do not make \(targets.count) samples of shape \(sampleShape)")
        }
        if case let .classes(labels, classCount) = targets {
            guard classCount >= 1 else { throw DataError.invalidRequest("a class count must be positive, got \(classCount)") }
            if let bad = labels.first(where: { $0 < 0 || Int($0) >= classCount }) {
                throw DataError.invalidRequest("label \(bad) is outside 0..<\(classCount)")
            }
        }
        self.features = features
        self.sampleShape = sampleShape
        self.targets = targets
    }

    /// The number of samples.
    public var count: Int { targets.count }

    /// The number of feature values in one sample (the product of `sampleShape`).
    public var featuresPerSample: Int { sampleShape.reduce(1, *) }

    /// The number of classes for a classification set, `nil` for regression.
    public var classCount: Int? {
        if case let .classes(_, classCount) = targets { return classCount }
        return nil
    }

    /// The first `n` samples (all of them when `n` is larger), e.g. for `--limit N`.
    public func prefix(_ n: Int) -> Dataset {
        let kept = min(max(n, 0), count)
        return Dataset(
            checkedFeatures: Array(features[0..<kept * featuresPerSample]), sampleShape: sampleShape,
            targets: targets.selecting(0..<kept))
    }

    /// The samples at `indices`, in that order; every index must be in `0..<count`.
    public func selecting<Indices: Collection<Int>>(_ indices: Indices) -> Dataset {
        let width = featuresPerSample
        var selected: [Float] = []
        selected.reserveCapacity(indices.count * width)
        for index in indices {
            selected.append(contentsOf: features[index * width..<(index + 1) * width])
        }
        return Dataset(checkedFeatures: selected, sampleShape: sampleShape, targets: targets.selecting(indices))
    }

    /// The data set with the same samples and targets but new features of the same size.
    func replacingFeatures(_ newFeatures: [Float]) -> Dataset {
        precondition(newFeatures.count == features.count, "replacement features must keep the size")
        return Dataset(checkedFeatures: newFeatures, sampleShape: sampleShape, targets: targets)
    }

    /// Skips validation, for parts derived from a data set that was already validated.
    private init(checkedFeatures: [Float], sampleShape: [Int], targets: Targets) {
        self.features = checkedFeatures
        self.sampleShape = sampleShape
        self.targets = targets
    }
}

extension Dataset {
    /// What a data set asks a model to predict for each sample.
    public enum Targets: Sendable, Equatable {
        /// One class label per sample, each in `0..<classCount`.
        case classes(labels: [Int32], classCount: Int)
        /// One real value per sample (regression).
        case values([Float])

        /// The number of samples these targets cover.
        public var count: Int {
            switch self {
            case let .classes(labels, _): labels.count
            case let .values(values): values.count
            }
        }

        /// The targets of the samples at `indices`, in that order.
        func selecting<Indices: Collection<Int>>(_ indices: Indices) -> Targets {
            switch self {
            case let .classes(labels, classCount): .classes(labels: indices.map { labels[$0] }, classCount: classCount)
            case let .values(values): .values(indices.map { values[$0] })
            }
        }
    }
}
