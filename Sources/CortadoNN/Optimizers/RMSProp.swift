/// RMSProp as PyTorch's `torch.optim.RMSprop` (non-centred, optional momentum).
/// - Note: Tieleman & Hinton, Lecture 6.5, COURSERA: Neural Networks for Machine Learning, 2012.
public final class RMSProp: Optimizer {
    /// `rmsprop`.
    public let name = "rmsprop"
    /// The parameters updated.
    public let parameters: [(name: String, parameter: Parameter)]
    /// Step size.
    public var learningRate: Float
    /// Decay of the mean square.
    public let alpha: Float
    /// Added to the denominator.
    public let epsilon: Float
    /// L2 penalty added to the gradient.
    public let weightDecay: Float
    /// Momentum of the scaled step (0 for none).
    public let momentum: Float
    /// Steps taken.
    public private(set) var stepCount = 0
    private let slots: OptimizerSlots

    /// Creates RMSProp over `parameters`.
    public init(
        _ parameters: [(name: String, parameter: Parameter)], learningRate: Float = 1e-2, alpha: Float = 0.99,
        epsilon: Float = 1e-8, weightDecay: Float = 0, momentum: Float = 0
    ) throws {
        try requireHyperparameter(learningRate > 0, "learning rate must be positive, not \(learningRate)")
        try requireHyperparameter(alpha >= 0 && alpha < 1, "alpha must be in [0, 1)")
        try requireHyperparameter(epsilon > 0, "epsilon must be positive")
        try requireHyperparameter(weightDecay >= 0 && momentum >= 0 && momentum < 1, "weight decay and momentum out of range")
        self.parameters = parameters
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.slots = OptimizerSlots(names: ["square_avg", "momentum_buffer"], parameterCount: parameters.count)
    }

    /// α, ε, weight decay and momentum.
    public var hyperparameters: [String: Float] {
        ["alpha": alpha, "epsilon": epsilon, "weight_decay": weightDecay, "momentum": momentum]
    }

    /// `s = αs + (1 − α)g²; p −= lr·g / (√s + ε)` (through the momentum buffer when momentum > 0).
    public func step() throws {
        let rule = UpdateRule.rmsProp(learningRate: learningRate, alpha: alpha, epsilon: epsilon, weightDecay: weightDecay, momentum: momentum)
        try slots.apply(rule, to: parameters)
        stepCount += 1
    }

    /// The mean squares and momentum buffers.
    public func stateTensors() -> [(name: String, tensor: Tensor)] { slots.stateTensors(parameters) }

    /// Restores the state and the step count.
    public func loadState(_ tensors: [String: Tensor], stepCount: Int) throws {
        try slots.load(tensors, parameters)
        self.stepCount = stepCount
    }
}
