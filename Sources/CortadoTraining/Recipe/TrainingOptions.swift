/// Everything that defines a training run, as `cortado train`'s flags name it: the model, the data,
/// the hyperparameters, where to save and what to resume. `nil` means "the model's default"
/// (``TrainingDefaults``) or, when resuming, "the checkpoint's".
///
/// The device, the CPU threads and the output format are not part of it: they may differ between
/// the processes of a data-parallel run, while every field here must be the same on every rank
/// (``fingerprint``).
///
/// ```swift
/// var options = TrainingOptions()
/// options.model = .cnn
/// options.epochs = 3
/// options.save = "model.safetensors"
/// let run = try TrainingRun(options: options, device: .cpu)
/// _ = try run.run()
/// ```
public struct TrainingOptions: Sendable, Codable, Equatable {
    /// The model (default: cnn, or the resumed checkpoint's).
    public var model: BuiltinModel?
    /// `fashion-mnist`, an MNIST-format directory, a CSV/TSV file or a text corpus (default:
    /// fashion-mnist, or the resumed checkpoint's).
    public var data: String?
    /// The CSV column to predict.
    public var target: String?
    /// The task (default: from the data).
    public var task: Task?
    /// Text data: the CSV column holding the text.
    public var textColumn: String?
    /// Text data: the CSV column holding the label.
    public var labelColumn: String?
    /// Text models: vocabulary size, counting the padding and unknown-word entries.
    public var vocabularySize = 10_000
    /// Text models: tokens per text.
    public var maxLength = 64
    /// bert-classifier: the Hugging Face model directory to fine-tune.
    public var initDirectory: String?
    /// Epochs to train in total, counting a resumed checkpoint's.
    public var epochs = 3
    /// Samples per step: the global batch, split across the ranks of a data-parallel run.
    public var batchSize: Int?
    /// The optimizer.
    public var optimizer: OptimizerChoice?
    /// The learning rate.
    public var learningRate: Float?
    /// Momentum (sgd, rmsprop; default 0).
    public var momentum: Float?
    /// Nesterov momentum (sgd; default off).
    public var nesterov: Bool?
    /// Weight decay.
    public var weightDecay: Float?
    /// The learning-rate schedule.
    public var schedule: ScheduleChoice?
    /// Epochs between step decays (with the `step` schedule).
    public var stepEpochs = 1
    /// Linear warm-up: a fraction of all steps (< 1) or a number of steps.
    public var warmup: Double?
    /// Seed of initialisation and shuffling.
    public var seed: UInt64 = 1
    /// Where to write the model and optimizer state after each epoch.
    public var save: String?
    /// A checkpoint to continue from, with its optimizer state.
    public var resume: String?
    /// Train on the first N training samples only.
    public var limit: Int?
    /// How a data-parallel run splits the global batch between its ranks.
    public var balance: BatchBalance = .even
    /// The precision of the forward and backward passes (master weights and optimizer state stay
    /// float32; `fp16` scales the loss dynamically).
    public var precision: Precision = .fp32
    /// The type of the model's weights in saved checkpoints: `float32` (resumable), or `bfloat16`
    /// or `float16` for inference-only files half the size.
    public var saveWeightType: DType = .float32

    /// Options with every default.
    public init() {}

    /// The largest values the size flags accept: beyond them a run could only exhaust memory or
    /// overflow a size computation, so they are refused before anything is allocated.
    public enum Limits {
        /// `--epochs` (and `--step-epochs`).
        public static let epochs = 1_000_000
        /// `--batch-size`.
        public static let batchSize = 1 << 20
        /// `--max-len`.
        public static let maxLength = 1 << 16
        /// `--vocab-size`.
        public static let vocabularySize = 1 << 24
        /// `--warmup` as a number of steps.
        public static let warmupSteps = 1 << 40
    }

    /// Throws ``TrainingError/invalidOption(_:)`` naming the first flag out of range: a size below
    /// 1 or above ``Limits``, or a floating-point value that is negative, NaN or infinite.
    public func validate() throws {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            guard condition else { throw TrainingError.invalidOption(message()) }
        }
        func requireSize(_ value: Int, _ flag: String, minimum: Int = 1, maximum: Int) throws {
            try require(value >= minimum, "\(flag) must be at least \(minimum), not \(value)")
            try require(value <= maximum, "\(flag) must be at most \(maximum), not \(value)")
        }
        func requireFinite<F: BinaryFloatingPoint>(_ value: F, _ flag: String) throws {
            try require(value.isFinite, "\(flag) must be a finite number, not \(value)")
        }
        try requireSize(epochs, "--epochs", maximum: Limits.epochs)
        if let batchSize { try requireSize(batchSize, "--batch-size", maximum: Limits.batchSize) }
        if let learningRate { try require(learningRate > 0 && learningRate.isFinite, "--lr must be a positive finite number, not \(learningRate)") }
        if let momentum {
            try requireFinite(momentum, "--momentum")
            try require(momentum >= 0 && momentum < 1, "--momentum must be in [0, 1), not \(momentum)")
        }
        if let weightDecay {
            try requireFinite(weightDecay, "--weight-decay")
            try require(weightDecay >= 0, "--weight-decay must not be negative, not \(weightDecay)")
        }
        if let warmup {
            try requireFinite(warmup, "--warmup")
            try require(warmup >= 0, "--warmup must not be negative, not \(warmup)")
            try require(warmup < 1 || warmup <= Double(Limits.warmupSteps), "--warmup must be at most \(Limits.warmupSteps) steps, not \(warmup)")
        }
        try requireSize(stepEpochs, "--step-epochs", maximum: Limits.epochs)
        try requireSize(vocabularySize, "--vocab-size", minimum: 3, maximum: Limits.vocabularySize)
        try requireSize(maxLength, "--max-len", maximum: Limits.maxLength)
        if let limit { try require(limit > 0, "--limit must be positive, not \(limit)") }
        try require(saveWeightType.isFloatingPoint, "--save-dtype must be float32, bfloat16 or float16, not \(saveWeightType)")
        if let save, let resume, save == resume { return }  // continuing a checkpoint in place
        if let save {
            let inputs: [(String?, SavePath.Input)] = [(data, .data), (initDirectory, .model)]
            for case let (input?, kind) in inputs where SavePath.sameFile(save, input, kind: kind) {
                throw TrainingError.invalidOption("--save \(save) would overwrite the run's own input \(input); choose another file")
            }
        }
    }
}

/// How a data-parallel run divides each global batch between its ranks.
public enum BatchBalance: String, CaseIterable, Sendable, Codable {
    /// Equal shares (the first ranks take one more sample when the batch does not divide evenly).
    case even
    /// Shares proportional to each rank's measured speed, measured again every few steps (every
    /// epoch when a rank overlaps its all-reduces with the backward pass).
    case auto
}
