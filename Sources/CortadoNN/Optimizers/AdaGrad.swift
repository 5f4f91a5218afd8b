/// AdaGrad as PyTorch's `torch.optim.Adagrad` (no learning-rate decay, zero initial accumulator).
/// - Note: Duchi, Hazan & Singer, "Adaptive Subgradient Methods", 2011.
public final class AdaGrad: Optimizer {
    /// `adagrad`.
    public let name = "adagrad"
    /// The parameters updated.
    public let parameters: [(name: String, parameter: Parameter)]
    /// Step size.
    public var learningRate: Float
    /// Added to the denominator.
    public let epsilon: Float
    /// L2 penalty added to the gradient.
    public let weightDecay: Float
    /// Steps taken.
    public private(set) var stepCount = 0
    private let slots: OptimizerSlots

    /// Creates AdaGrad over `parameters`.
    public init(
        _ parameters: [(name: String, parameter: Parameter)], learningRate: Float = 1e-2, epsilon: Float = 1e-10,
        weightDecay: Float = 0
    ) throws {
        try requireHyperparameter(learningRate > 0, "learning rate must be positive, not \(learningRate)")
        try requireHyperparameter(epsilon > 0 && weightDecay >= 0, "epsilon must be positive and weight decay not negative")
        self.parameters = parameters
        self.learningRate = learningRate
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.slots = OptimizerSlots(names: ["sum"], parameterCount: parameters.count)
    }

    /// ε and weight decay.
    public var hyperparameters: [String: Float] { ["epsilon": epsilon, "weight_decay": weightDecay] }

    /// `s += g²; p −= lr·g / (√s + ε)`.
    public func step() throws {
        let rule = UpdateRule.adaGrad(learningRate: learningRate, epsilon: epsilon, weightDecay: weightDecay)
        try slots.apply(rule, to: parameters)
        stepCount += 1
    }

    /// The accumulated squared gradients.
    public func stateTensors() -> [(name: String, tensor: Tensor)] { slots.stateTensors(parameters) }

    /// Restores the accumulators and the step count.
    public func loadState(_ tensors: [String: Tensor], stepCount: Int) throws {
        try slots.load(tensors, parameters)
        self.stepCount = stepCount
    }
}
