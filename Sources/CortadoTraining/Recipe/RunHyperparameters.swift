/// The batch size, optimizer and learning-rate schedule of a run, each from the first source that
/// has it: the flag, then (when resuming) the checkpoint's record, then the model's default
/// (``TrainingDefaults``). A resumed run therefore continues with the optimizer, rate, decay,
/// momentum and schedule it was trained with, as `--resume` promises, unless a flag changes them.
struct RunHyperparameters {
    /// Samples per step (the global batch).
    var batchSize: Int
    /// The optimizer.
    var optimizer: OptimizerChoice
    /// The peak learning rate.
    var learningRate: Float
    /// Momentum (sgd, rmsprop).
    var momentum: Float
    /// Nesterov momentum (sgd).
    var nesterov: Bool
    /// Weight decay.
    var weightDecay: Float
    private let options: TrainingOptions
    private let recorded: CheckpointConfiguration?
    private let defaults: TrainingDefaults

    /// Resolves the settings of `options` for `model`, resuming `recorded` when given.
    init(options: TrainingOptions, model: BuiltinModel, recorded: CheckpointConfiguration?) {
        let defaults = TrainingDefaults(model)
        let hyperparameters = recorded?.optimizerHyperparameters ?? [:]
        self.options = options
        self.recorded = recorded
        self.defaults = defaults
        batchSize = options.batchSize ?? recorded?.batchSize ?? defaults.batchSize
        optimizer = options.optimizer ?? recorded.flatMap { OptimizerChoice(rawValue: $0.optimizer) } ?? defaults.optimizer
        learningRate = options.learningRate ?? recorded?.schedule.base ?? defaults.learningRate ?? optimizer.defaultLearningRate
        momentum = options.momentum ?? hyperparameters["momentum"] ?? 0
        nesterov = options.nesterov ?? hyperparameters["nesterov"].map { $0 != 0 } ?? false
        weightDecay = options.weightDecay ?? hyperparameters["weight_decay"] ?? defaults.weightDecay
    }

    /// The optimizer over `model`'s trainable parameters.
    func makeOptimizer(for model: any Module) throws -> any Optimizer {
        try optimizer.make(
            model.trainableParameters(), learningRate: learningRate, momentum: momentum, nesterov: nesterov,
            weightDecay: weightDecay)
    }

    /// The schedule over `options.epochs` epochs of `batchesPerEpoch` steps. A resumed run keeps
    /// its recorded shape and warm-up steps unless `--schedule` or `--warmup` is given; linear and
    /// cosine decay then span the new total, so a run extended with more epochs decays over all of
    /// them (as Hugging Face's `Trainer` does), and an interrupted one continues exactly.
    func schedule(batchesPerEpoch: Int) -> LearningRateSchedule {
        let totalSteps = batchesPerEpoch * options.epochs
        let shape: LearningRateSchedule.Shape
        if let choice = options.schedule ?? (recorded == nil ? defaults.schedule : nil) {
            switch choice {
            case .constant: shape = .constant
            case .step: shape = .step(every: options.stepEpochs * batchesPerEpoch, factor: 0.1)
            case .cosine: shape = .cosine(minimumFactor: 0)
            case .linear: shape = .linear
            }
        } else {
            shape = recorded?.schedule.shape ?? .constant
        }
        let warmupSteps: Int
        if let warmup = options.warmup ?? (recorded == nil ? defaults.warmup : nil) {
            warmupSteps = warmup < 1 ? Int(warmup * Double(totalSteps)) : Int(warmup)
        } else {
            warmupSteps = recorded?.schedule.warmupSteps ?? 0
        }
        return LearningRateSchedule(base: learningRate, shape: shape, warmupSteps: warmupSteps, totalSteps: totalSteps)
    }
}
