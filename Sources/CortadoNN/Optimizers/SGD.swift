/// Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay, as PyTorch's
/// `torch.optim.SGD`.
public final class SGD: Optimizer {
    /// `sgd`.
    public let name = "sgd"
    /// The parameters updated.
    public let parameters: [(name: String, parameter: Parameter)]
    /// Step size.
    public var learningRate: Float
    /// Momentum factor (0 for plain gradient descent).
    public let momentum: Float
    /// Whether to use Nesterov momentum.
    public let nesterov: Bool
    /// L2 penalty added to the gradient.
    public let weightDecay: Float
    /// Steps taken.
    public private(set) var stepCount = 0
    private let slots: OptimizerSlots

    /// Creates the optimizer over `parameters` (usually `model.trainableParameters()`).
    public init(
        _ parameters: [(name: String, parameter: Parameter)], learningRate: Float, momentum: Float = 0,
        nesterov: Bool = false, weightDecay: Float = 0
    ) throws {
        try requireHyperparameter(learningRate > 0, "learning rate must be positive, not \(learningRate)")
        try requireHyperparameter(momentum >= 0 && momentum < 1, "momentum must be in [0, 1), not \(momentum)")
        try requireHyperparameter(!nesterov || momentum > 0, "Nesterov momentum needs a positive momentum")
        try requireHyperparameter(weightDecay >= 0, "weight decay must not be negative")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.slots = OptimizerSlots(names: ["velocity"], parameterCount: parameters.count)
    }

    /// Momentum, Nesterov (0/1) and weight decay.
    public var hyperparameters: [String: Float] {
        ["momentum": momentum, "nesterov": nesterov ? 1 : 0, "weight_decay": weightDecay]
    }

    /// `v = μv + g; p −= lr·(g + μv if Nesterov else v)` with `g` including weight decay.
    public func step() throws {
        let rule = UpdateRule.sgd(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
        try slots.apply(rule, to: parameters)
        stepCount += 1
    }

    /// The velocity of each parameter.
    public func stateTensors() -> [(name: String, tensor: Tensor)] { slots.stateTensors(parameters) }

    /// Restores the velocities and the step count.
    public func loadState(_ tensors: [String: Tensor], stepCount: Int) throws {
        try slots.load(tensors, parameters)
        self.stepCount = stepCount
    }
}
