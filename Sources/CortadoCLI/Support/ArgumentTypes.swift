import ArgumentParser
import CortadoTraining

extension BuiltinModel: ExpressibleByArgument {}
extension Task: ExpressibleByArgument {}

extension BenchmarkModel: ExpressibleByArgument {
    /// Parses a model name for `cortado bench --model`.
    public init?(argument: String) { self.init(name: argument) }
    /// The names, for help and completion.
    public static var allValueStrings: [String] { names }
    /// The name, for a default value in help.
    public var defaultValueDescription: String { name }
}

/// The optimizers `--optimizer` names.
enum OptimizerChoice: String, CaseIterable, ExpressibleByArgument {
    case sgd, adam, adamw, rmsprop, adagrad

    /// PyTorch's default learning rate for the optimizer (Keras' for Adam).
    var defaultLearningRate: Float {
        switch self {
        case .sgd, .adagrad: return 0.01
        case .adam, .adamw, .rmsprop: return 0.001
        }
    }

    /// Builds the optimizer over the model's trainable parameters.
    func make(
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

/// The learning-rate schedules `--schedule` names.
enum ScheduleChoice: String, CaseIterable, ExpressibleByArgument {
    case constant, step, cosine, linear
}
