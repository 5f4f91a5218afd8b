/// Layer normalisation over the last axis with a learned scale and shift (PyTorch's `LayerNorm`
/// with one normalised dimension; Keras' `LayerNormalization(axis=-1)`).
public final class LayerNorm: Module {
    /// The scale, `[features]`, initialised to ones.
    public let weight: Parameter
    /// The shift, `[features]`, initialised to zeros.
    public let bias: Parameter
    /// Added to the variance before the square root.
    public let epsilon: Float
    /// Training or evaluation mode (no effect on this layer).
    public var isTraining = true

    /// A layer normalising vectors of `features` elements.
    public init(_ features: Int, epsilon: Float = 1e-5, device: Device? = nil) throws {
        guard features > 0 else { throw CortadoError.invalidArgument("LayerNorm(\(features)): size must be positive") }
        guard epsilon >= 0 else { throw CortadoError.invalidArgument("LayerNorm: epsilon \(epsilon) must not be negative") }
        weight = try Parameter(Tensor.ones([features], device: device))
        bias = try Parameter(Tensor.zeros([features], device: device))
        self.epsilon = epsilon
    }

    /// The scale and shift.
    public var parameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }

    /// `x` normalised over its last axis, scaled and shifted.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.inComputeType().layerNorm(weight: weight.computeValue, bias: bias.computeValue, epsilon: epsilon)
    }
}
