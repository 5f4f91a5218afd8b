/// The optimizers a training run can use, by the name `cortado train --optimizer` takes.
public enum OptimizerChoice: String, CaseIterable, Sendable, Codable {
    /// Stochastic gradient descent, with optional (Nesterov) momentum.
    case sgd
    /// Adam (L2 weight decay added to the gradient).
    case adam
    /// AdamW (decoupled weight decay).
    case adamw
    /// RMSProp.
    case rmsprop
    /// AdaGrad.
    case adagrad

    /// PyTorch's default learning rate for the optimizer (Keras' for Adam).
    public var defaultLearningRate: Float {
        switch self {
        case .sgd, .adagrad: return 0.01
        case .adam, .adamw, .rmsprop: return 0.001
        }
    }

    /// Builds the optimizer over the model's trainable parameters.
    public func make(
        _ parameters: [(name: String, parameter: Parameter)], learningRate: Float, momentum: Float, nesterov: Bool,
        weightDecay: Float
    ) throws -> any Optimizer {
        switch self {
        case .sgd:
            return try SGD(parameters, learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        case .adam:
            return try Adam(parameters, learningRate: learningRate, weightDecay: weightDecay)
        case .adamw:
            return try AdamW(parameters, learningRate: learningRate, weightDecay: weightDecay)
        case .rmsprop:
            return try RMSProp(parameters, learningRate: learningRate, weightDecay: weightDecay, momentum: momentum)
        case .adagrad:
            return try AdaGrad(parameters, learningRate: learningRate, weightDecay: weightDecay)
        }
    }
}

/// The learning-rate schedules a training run can use, by the name `cortado train --schedule` takes.
public enum ScheduleChoice: String, CaseIterable, Sendable, Codable {
    /// The same rate at every step.
    case constant
    /// ×0.1 every ``TrainingOptions/stepEpochs`` epochs.
    case step
    /// Cosine decay to 0 over all steps.
    case cosine
    /// Linear decay to 0 at the last step.
    case linear
}

/// The hyperparameters a training run uses for a model when the options leave them out.
///
/// For `bert-classifier` they are those of the usual BERT fine-tuning recipe (Devlin et al. 2019,
/// and the PyTorch reference run of issue 7): batch 32, AdamW at 5e-5, 10 % linear warm-up, then
/// linear decay to 0 over all steps. Weight decay is 0.01, `torch.optim.AdamW`'s default, applied to
/// every parameter as a plain PyTorch loop does (Hugging Face's `Trainer` defaults to 0 and, when
/// set, spares biases and LayerNorms; at lr 5e-5 over a few hundred steps either choice shrinks the
/// weights by well under 0.1 %).
public struct TrainingDefaults: Sendable, Equatable {
    /// Samples per step.
    public var batchSize = 64
    /// The optimizer.
    public var optimizer: OptimizerChoice = .adam
    /// The learning rate; `nil`: the optimizer's own default.
    public var learningRate: Float?
    /// Weight decay.
    public var weightDecay: Float = 0
    /// The learning-rate schedule.
    public var schedule: ScheduleChoice = .constant
    /// Warm-up: a fraction of all steps (< 1) or a number of steps.
    public var warmup: Double = 0

    /// The defaults for `model`.
    public init(_ model: BuiltinModel) {
        guard model.readsWordPieces else { return }
        batchSize = 32
        optimizer = .adamw
        learningRate = 5e-5
        weightDecay = 0.01
        schedule = .linear
        warmup = 0.1
    }
}
