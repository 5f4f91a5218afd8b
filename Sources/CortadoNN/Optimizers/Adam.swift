import Foundation

/// Adam (PyTorch's `torch.optim.Adam`: L2 weight decay added to the gradient) or, with
/// `decoupledWeightDecay`, AdamW (the parameter shrinks by `lr·λ` before the Adam step).
/// - Note: Kingma & Ba, "Adam: A Method for Stochastic Optimization", 2015; Loshchilov & Hutter,
///   "Decoupled Weight Decay Regularization", 2019.
public class Adam: Optimizer {
    /// `adam` or `adamw`.
    public var name: String { decoupledWeightDecay ? "adamw" : "adam" }
    /// The parameters updated.
    public let parameters: [(name: String, parameter: Parameter)]
    /// Step size.
    public var learningRate: Float
    /// Decay of the first moment.
    public let beta1: Float
    /// Decay of the second moment.
    public let beta2: Float
    /// Added to the denominator.
    public let epsilon: Float
    /// Weight decay (L2 for Adam, decoupled for AdamW).
    public let weightDecay: Float
    /// Whether weight decay is decoupled (AdamW).
    public let decoupledWeightDecay: Bool
    /// Steps taken.
    public private(set) var stepCount = 0
    private let slots: OptimizerSlots

    /// Creates Adam (or AdamW) over `parameters`.
    public init(
        _ parameters: [(name: String, parameter: Parameter)], learningRate: Float = 1e-3, beta1: Float = 0.9,
        beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false
    ) throws {
        try requireHyperparameter(learningRate > 0, "learning rate must be positive, not \(learningRate)")
        try requireHyperparameter(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "betas must be in [0, 1)")
        try requireHyperparameter(epsilon > 0, "epsilon must be positive")
        try requireHyperparameter(weightDecay >= 0, "weight decay must not be negative")
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        self.slots = OptimizerSlots(names: ["m", "v"], parameterCount: parameters.count)
    }

    /// β1, β2, ε and weight decay.
    public var hyperparameters: [String: Float] {
        ["beta1": beta1, "beta2": beta2, "epsilon": epsilon, "weight_decay": weightDecay]
    }

    /// One bias-corrected Adam step for every parameter with a gradient.
    public func step() throws {
        let t = Double(stepCount + 1)
        let correction1 = 1 - pow(Double(beta1), t)
        let correction2 = (1 - pow(Double(beta2), t)).squareRoot()
        let rule = UpdateRule.adam(
            beta1: beta1, beta2: beta2, epsilon: epsilon, stepSize: Float(Double(learningRate) / correction1),
            biasCorrection2: Float(correction2), l2: decoupledWeightDecay ? 0 : weightDecay,
            decay: decoupledWeightDecay ? learningRate * weightDecay : 0)
        try slots.apply(rule, to: parameters)
        stepCount += 1
    }

    /// The moments of each parameter.
    public func stateTensors() -> [(name: String, tensor: Tensor)] { slots.stateTensors(parameters) }

    /// Restores the moments and the step count (which sets the bias corrections).
    public func loadState(_ tensors: [String: Tensor], stepCount: Int) throws {
        try slots.load(tensors, parameters)
        self.stepCount = stepCount
    }
}

/// AdamW: Adam with decoupled weight decay (default λ = 0.01, as PyTorch's `torch.optim.AdamW`).
public final class AdamW: Adam {
    /// Creates AdamW over `parameters`.
    public init(
        _ parameters: [(name: String, parameter: Parameter)], learningRate: Float = 1e-3, beta1: Float = 0.9,
        beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01
    ) throws {
        try super.init(parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                       weightDecay: weightDecay, decoupledWeightDecay: true)
    }
}
