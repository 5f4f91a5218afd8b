/// A fully connected layer: `y = x · Wᵀ + b` over the last dimension (Keras' Dense).
///
/// The weight is stored `[outputs, inputs]`, as PyTorch and Hugging Face checkpoints store it.
public final class Linear: Module {
    /// `[outputs, inputs]`.
    public let weight: Parameter
    /// `[outputs]`, or `nil` without a bias.
    public let bias: Parameter?
    /// Training or evaluation mode (no effect on this layer).
    public var isTraining = true
    /// The int8 weight the layer computes with once quantised (``quantize(_:)``); `nil`: float.
    public internal(set) var quantizedWeight: QuantizedMatrix?
    /// Sees every input of the float layer while calibration runs (``Module/calibrateInputScales(_:running:)``).
    var inputObserver: ((Tensor) throws -> Void)?

    /// - Parameters:
    ///   - inputs: features per sample in.
    ///   - outputs: features per sample out.
    ///   - weightInitializer: Keras' default, Glorot uniform, unless given.
    ///   - biasInitializer: zeros (Keras) unless given.
    public init(
        _ inputs: Int, _ outputs: Int, bias: Bool = true, weightInitializer: Initializer = .glorotUniform,
        biasInitializer: Initializer = .zeros, device: Device? = nil, generator: RandomGenerator? = nil
    ) throws {
        guard inputs > 0, outputs > 0 else {
            throw CortadoError.invalidArgument("Linear(\(inputs), \(outputs)): sizes must be positive")
        }
        weight = try Parameter(weightInitializer.make(
            [outputs, inputs], fanIn: inputs, fanOut: outputs, device: device, generator: generator))
        self.bias = bias ? try Parameter(biasInitializer.make(
            [outputs], fanIn: inputs, fanOut: outputs, device: device, generator: generator)) : nil
    }

    /// The layer's weight and bias.
    public var parameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// `x · Wᵀ + b` for `x` of shape `[…, inputs]`.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        if let quantizedWeight {
            return try x.quantizedLinear(quantizedWeight, bias: bias?.value.to(dtype: .float32))
        }
        try inputObserver?(x)
        return try x.inComputeType().linear(weight: weight.computeValue, bias: bias?.computeValue)
    }

}
