/// Per-feature mean and standard deviation, fitted on a training set and applied to every set that
/// feeds the same model: `(x − mean) / std`. Codable, so a checkpoint can store and reapply it.
public struct FeatureStandardization: Codable, Sendable, Equatable {
    /// The mean of each feature over the fitted samples.
    public let means: [Float]
    /// The population standard deviation of each feature; a feature that does not vary gets 1.
    public let standardDeviations: [Float]

    /// Statistics from stored values; both arrays must have one entry per feature.
    public init(means: [Float], standardDeviations: [Float]) throws {
        try Self.validate(means: means, standardDeviations: standardDeviations)
        self.means = means
        self.standardDeviations = standardDeviations
    }

    /// Decodes stored statistics and checks them as ``init(means:standardDeviations:)`` does.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let means = try container.decode([Float].self, forKey: .means)
        let standardDeviations = try container.decode([Float].self, forKey: .standardDeviations)
        try Self.validate(means: means, standardDeviations: standardDeviations)
        self.means = means
        self.standardDeviations = standardDeviations
    }

    /// Throws unless the arrays match and hold finite values with positive deviations.
    private static func validate(means: [Float], standardDeviations: [Float]) throws {
        guard means.count == standardDeviations.count else {
            throw DataError.invalidRequest(
                "standardisation has \(means.count) means but \(standardDeviations.count) standard deviations")
        }
        guard standardDeviations.allSatisfy({ $0 > 0 && $0.isFinite }), means.allSatisfy(\.isFinite) else {
            throw DataError.invalidRequest("standardisation statistics must be finite, with positive standard deviations")
        }
    }

    /// Fits the statistics of every feature (every position of the sample shape) over `dataset`.
    ///
    /// A feature whose standard deviation is 0 — or below the float rounding of its mean, which is
    /// what a constant column leaves behind — gets 1, so it passes through centred but unscaled.
    public static func fit(to dataset: Dataset) -> FeatureStandardization {
        let width = dataset.featuresPerSample
        let n = dataset.count
        var sums = [Double](repeating: 0, count: width)
        dataset.features.withUnsafeBufferPointer { features in
            for sample in 0..<n {
                for feature in 0..<width { sums[feature] += Double(features[sample * width + feature]) }
            }
        }
        let means = sums.map { n > 0 ? $0 / Double(n) : 0 }
        var squares = [Double](repeating: 0, count: width)
        dataset.features.withUnsafeBufferPointer { features in
            for sample in 0..<n {
                for feature in 0..<width {
                    let deviation = Double(features[sample * width + feature]) - means[feature]
                    squares[feature] += deviation * deviation
                }
            }
        }
        let deviations = zip(squares, means).map { square, mean -> Float in
            let std = n > 0 ? (square / Double(n)).squareRoot() : 0
            let negligible = Double(Float.ulpOfOne) * max(abs(mean), 1)
            return std > negligible && std.isFinite ? Float(std) : 1
        }
        return FeatureStandardization(unchecked: means.map { Float($0) }, deviations)
    }

    /// `dataset` with every feature standardised; throws if its samples have a different feature count.
    public func apply(to dataset: Dataset) throws -> Dataset {
        let width = means.count
        guard dataset.featuresPerSample == width else {
            throw DataError.invalidRequest(
                "standardisation was fitted on \(width) features per sample, but this data has \(dataset.featuresPerSample)")
        }
        var features = dataset.features
        let scales = standardDeviations.map { 1 / $0 }
        features.withUnsafeMutableBufferPointer { values in
            for start in stride(from: 0, to: values.count, by: width) {
                for feature in 0..<width {
                    values[start + feature] = (values[start + feature] - means[feature]) * scales[feature]
                }
            }
        }
        return dataset.replacingFeatures(features)
    }

    /// Statistics known to be valid.
    private init(unchecked means: [Float], _ standardDeviations: [Float]) {
        self.means = means
        self.standardDeviations = standardDeviations
    }
}
