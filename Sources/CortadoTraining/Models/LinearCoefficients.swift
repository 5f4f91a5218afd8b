/// The coefficients of a trained `linear` regression in the units of the original features.
public struct LinearCoefficients: Sendable, Equatable {
    /// One weight per feature, in feature order.
    public var weights: [Float]
    /// The intercept.
    public var intercept: Float

    /// Reads `model` (a `linear` model: `Flatten → Linear(features, 1)`) and undoes the feature
    /// standardisation it was trained with: for `x' = (x − μ) / σ`, `w·x' + b = (w/σ)·x + b − Σ w·μ/σ`.
    public init(model: Sequential, standardization: FeatureStandardization?) throws {
        guard let linear = model.layers.last as? Linear, linear.weight.value.shape.first == 1 else {
            throw CortadoError.invalidArgument("coefficients exist only for a linear model with one output")
        }
        var weights = try linear.weight.value.toArray()
        var intercept = try linear.bias?.value.toArray().first ?? 0
        if let standardization {
            for i in weights.indices {
                weights[i] /= standardization.standardDeviations[i]
                intercept -= weights[i] * standardization.means[i]
            }
        }
        self.weights = weights
        self.intercept = intercept
    }
}
