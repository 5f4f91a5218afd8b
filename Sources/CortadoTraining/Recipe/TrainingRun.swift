import Foundation

/// A training run as `cortado train` performs it, for Swift code: the checks before anything is
/// loaded (the save path, the resumed checkpoint against the options), the model's defaults, the
/// data, the model (new, pretrained or resumed with its optimizer state), the learning-rate
/// schedule, then the epoch loop with evaluation, per-epoch checkpoints and Ctrl-C handling.
///
/// ```swift
/// var options = TrainingOptions()
/// options.model = .cnn
/// options.save = "model.safetensors"
/// let run = try TrainingRun(options: options, device: .cpu)
/// let outcome = try run.run(epochEnded: { print($0.testAccuracy ?? 0) })
/// ```
public final class TrainingRun {
    /// The options as given.
    public let options: TrainingOptions
    /// The device this process trains on.
    public let device: Device
    /// The model kind (the resumed checkpoint's when resuming).
    public let modelKind: BuiltinModel
    /// The `--data` string the run reads.
    public let dataSpec: String
    /// The data as loaded.
    public let data: TrainingData
    /// The training samples (after `limit`).
    public let train: Dataset
    /// The model's outputs.
    public let outputs: Int
    /// The global batch size.
    public let batchSize: Int
    /// The model being trained.
    public let model: any Module
    /// Its optimizer.
    public let optimizer: any Optimizer
    /// The learning rate per step.
    public let schedule: LearningRateSchedule
    /// The step loop.
    public let trainer: Trainer
    /// The first epoch to train (1-based; after the checkpoint's when resuming).
    public let startEpoch: Int
    /// Batches of ``startEpoch`` already trained: those an interrupted run took before it saved
    /// (its checkpoint's `stepsIntoEpoch`), skipped so that training continues with the next one.
    /// 0 unless resuming such a checkpoint with the same (global) batch size and seed, on any
    /// number of ranks.
    public let startStep: Int
    /// Where checkpoints go.
    public let saveURL: URL?
    /// The batches of every epoch (global batches in a data-parallel run).
    public let loader: BatchLoader
    /// The ranks training together (``SingleProcess`` for a plain run).
    public let communicator: any Communicator
    /// Seconds a rank waits for the others' gradients before it gives up (a rank died or hangs).
    public var communicationTimeout: Double = 600
    /// Further metadata written into every checkpoint the run saves (e.g. a pruned model's record).
    public var checkpointMetadata: [String: String] = [:]
    /// Each rank's device id and name (this rank's alone until ``prepare(options:communicator:device:)`` gathers them).
    public internal(set) var rankDevices: [String]
    /// How ``init(options:probe:fallback:)`` chose the device: every candidate's speed and the
    /// choice; `nil` when the device was given.
    public private(set) var deviceDecision: DeviceDecision?

    /// Prepares this process's part of the run: checks the options and the checkpoint to resume,
    /// loads the data, builds or restores the model and its optimizer. No collective operation
    /// runs here: a data-parallel run goes through ``prepare(options:communicator:device:)``.
    /// - Throws: ``TrainingError``, ``CheckpointError`` or ``DataError`` naming the flag or file at fault.
    public convenience init(options: TrainingOptions, device: Device, communicator: any Communicator = SingleProcess()) throws {
        try self.init(options: options, choice: .fixed(device), communicator: communicator)
    }

    /// Prepares a single-process run on the device `probe` finds fastest for this model, batch and
    /// precision (``DeviceProbe``: a few steps of throwaway copies of the model on each candidate,
    /// or the cached decision), as `--device auto` does; ``deviceDecision`` holds the figures.
    /// Probing changes none of the run's numbers: the run's model and random streams are made
    /// after it, from the seed, as on a device chosen by hand.
    ///
    /// A bert-classifier loads its pretrained weights with the data, before any step could be
    /// timed: it goes to `fallback` unmeasured.
    /// - Throws: as ``init(options:device:communicator:)``.
    public convenience init(options: TrainingOptions, probe: DeviceProbe, fallback: Device) throws {
        try self.init(options: options, choice: .fastest(probe, fallback: fallback), communicator: SingleProcess())
    }

    /// How the device is chosen.
    enum DeviceChoice {
        case fixed(Device)
        case fastest(DeviceProbe, fallback: Device)
    }

    private init(options: TrainingOptions, choice: DeviceChoice, communicator: any Communicator) throws {
        try options.validate()
        self.options = options
        self.communicator = communicator
        // Check everything that can fail cheaply before loading data or training; only rank 0 writes.
        let saveURL = options.save.map { URL(fileURLWithPath: $0) }
        if let saveURL, communicator.rank == 0 { try SafeTensors.checkWritable(saveURL) }
        self.saveURL = saveURL
        let checkpoint = try options.resume.map { try ModelCheckpoint(contentsOf: URL(fileURLWithPath: $0)) }
        let recorded = checkpoint?.configuration
        if let recorded, let requested = options.model, requested != recorded.model, let resume = options.resume {
            throw TrainingError.invalidOption("\(resume) holds a \(recorded.model.rawValue) model, not \(requested.rawValue); leave out --model to resume it")
        }
        let modelKind = recorded?.model ?? options.model ?? .cnn
        self.modelKind = modelKind
        if let initDirectory = options.initDirectory {
            guard modelKind.readsWordPieces else {
                throw TrainingError.invalidOption("--init \(initDirectory) loads a pretrained BERT for --model bert-classifier, not for the \(modelKind.rawValue) model")
            }
            if let resume = options.resume {
                throw TrainingError.invalidOption("--resume \(resume) continues from the checkpoint's own weights; leave out --init")
            }
        }
        let settings = RunHyperparameters(options: options, model: modelKind, recorded: recorded)
        batchSize = settings.batchSize
        // Resuming on other data (fine-tuning) is allowed when the data fits the model.
        dataSpec = options.data ?? recorded?.data ?? "fashion-mnist"
        let generator = RandomGenerator(seed: options.seed)
        self.generator = generator
        // Only a pretrained model (bert-classifier) goes to the device with the data.
        let dataDevice: Device
        switch choice {
        case let .fixed(device): dataDevice = device
        case let .fastest(_, fallback): dataDevice = fallback
        }
        data = try TrainingData.load(dataSpec, model: modelKind, options: options, recorded: recorded, device: dataDevice, generator: generator)
        var train = data.split.train
        if let limit = options.limit { train = train.prefix(limit) }
        self.train = train
        outputs = data.task.outputs(classes: data.classCount)
        loader = try BatchLoader(dataset: train, batchSize: batchSize, shuffle: true, seed: options.seed)
        // Before any step (the device probe's included) allocates: refuse a batch that cannot fit.
        var fixedDevice: Device?
        if case let .fixed(device) = choice { fixedDevice = device }
        try Self.requireStepMemory(
            model: modelKind, data: data, train: train, outputs: outputs, widths: recorded?.widths, batchSize: batchSize,
            device: fixedDevice)
        let device: Device
        if case let .fastest(probe, _) = choice, data.pretrained == nil {
            let decision = try Self.probeDevices(
                probe, options: options, settings: settings, model: modelKind, data: data, train: train, outputs: outputs,
                epochs: options.epochs - (recorded?.epochsCompleted ?? 0))
            deviceDecision = decision
            device = decision.device
        } else {
            device = dataDevice
        }
        self.device = device
        rankDevices = ["\(device.id) (\((try? device.info.name) ?? device.id))"]

        if let checkpoint, let recorded {
            if let saved = recorded.classNames, let classes = data.classNames, saved != classes {
                throw TrainingError.incompatibleData("the checkpoint predicts the classes \(saved), but \(dataSpec) has \(classes)")
            }
            guard recorded.sampleShape == train.sampleShape, recorded.outputs == outputs else {
                throw TrainingError.incompatibleData("the checkpoint's model takes \(recorded.sampleShape) → \(recorded.outputs); \(dataSpec) has \(train.sampleShape) → \(outputs)")
            }
            guard recorded.epochsCompleted < options.epochs else {
                throw TrainingError.invalidOption("the checkpoint has already trained \(recorded.epochsCompleted) epochs; pass --epochs greater than that")
            }
            model = try checkpoint.makeTrainedModel(device: device, generator: generator)
            startEpoch = recorded.epochsCompleted + 1
            // The loader's order of global batches depends on the seed and the batch size alone (not
            // on the number of ranks): only the same ones continue exactly.
            let sameOrder = recorded.batchSize == batchSize && recorded.seed == options.seed
            startStep = sameOrder ? recorded.stepsIntoEpoch ?? 0 : 0
        } else if let pretrained = data.pretrained {
            model = pretrained.model
            startEpoch = 1
            startStep = 0
        } else {
            model = try modelKind.make(
                sampleShape: train.sampleShape, outputs: outputs, vocabulary: data.tokenizer?.vocabularySize, device: device,
                generator: generator)
            startEpoch = 1
            startStep = 0
        }
        optimizer = try settings.makeOptimizer(for: model)
        if let checkpoint { try checkpoint.restore(optimizer, device: device) }
        schedule = settings.schedule(batchesPerEpoch: loader.batchesPerEpoch)
        trainer = Trainer(model: model, optimizer: optimizer, schedule: schedule, task: data.task, device: device,
                          readsTokens: modelKind.readsTokens, paddingId: data.wordPieces?.paddingId, precision: options.precision)
        if let recorded, recorded.seed == options.seed {
            // Continue the uninterrupted run's random stream (dropout masks) and loss scaling.
            if let counter = recorded.randomCounter { generator.restore(counter: counter) }
            if let state = recorded.lossScaler, let scaler = trainer.lossScaler {
                do { try scaler.restore(state) } catch {
                    throw CheckpointError(URL(fileURLWithPath: options.resume ?? ""), "its lossScaler cannot be restored: \(error)")
                }
            }
        }
        recordedTargetColumn = recorded?.targetColumn
        recordedTextColumn = recorded?.textColumn
        recordedLabelColumn = recorded?.labelColumn
        recordedWidths = recorded?.widths
    }

    private let recordedWidths: [Int]?

    private let recordedTargetColumn: String?
    /// The run's random stream: data splits, initialisation, dropout masks.
    private let generator: RandomGenerator
    private let recordedTextColumn: String?
    private let recordedLabelColumn: String?

    /// One line saying what is trained on what, e.g. `training cnn (225034 parameters) on 60000
    /// samples of fashion-mnist, classification, on cpu (AMD EPYC)`; a data-parallel run lists
    /// every rank's device.
    public var summary: String {
        let head = "training \(modelKind.rawValue) (\(model.parameterCount) parameters) on \(train.count) samples of \(dataSpec), \(data.task.rawValue), on "
        guard communicator.size > 1 else { return head + rankDevices[0] }
        let ranks = rankDevices.enumerated().map { "rank \($0) \($1)" }.joined(separator: ", ")
        return head + "\(communicator.size) ranks (global batch \(batchSize), \(options.balance == .auto ? "balanced by speed" : "split evenly")): \(ranks)"
    }

    /// What a checkpoint written after `epochsCompleted` epochs (and `stepsIntoEpoch` batches of
    /// the next one, for an interrupted run) records.
    public func configuration(epochsCompleted: Int, stepsIntoEpoch: Int? = nil) -> CheckpointConfiguration {
        let readsText = modelKind.readsText
        var configuration = CheckpointConfiguration(
            model: modelKind, task: data.task, sampleShape: train.sampleShape, outputs: outputs,
            data: dataSpec, targetColumn: options.target ?? recordedTargetColumn,
            featureColumns: data.featureColumns, standardization: data.standardization, optimizer: optimizer.name,
            optimizerHyperparameters: optimizer.hyperparameters, schedule: schedule, steps: optimizer.stepCount,
            epochsCompleted: epochsCompleted, batchSize: batchSize, seed: options.seed, tokenizer: data.tokenizer,
            maxLength: readsText ? train.sampleShape[0] : nil, classNames: data.classNames,
            textColumn: readsText ? (options.textColumn ?? recordedTextColumn) : nil,
            labelColumn: readsText ? (options.labelColumn ?? recordedLabelColumn) : nil, bert: data.bert)
        configuration.stepsIntoEpoch = stepsIntoEpoch.flatMap { $0 > 0 ? $0 : nil }
        configuration.randomCounter = generator.counter
        configuration.lossScaler = trainer.lossScaler?.state
        configuration.widths = recordedWidths
        return configuration
    }

    /// Writes the model and optimizer state after `epochsCompleted` epochs (and `stepsIntoEpoch`
    /// batches of the next) to ``saveURL`` (atomically; rank 0 only), the weights in
    /// `options.saveWeightType`.
    public func saveCheckpoint(epochsCompleted: Int, stepsIntoEpoch: Int? = nil) throws {
        guard let saveURL, communicator.rank == 0 else { return }
        try ModelCheckpoint.save(
            model: model, optimizer: optimizer,
            configuration: configuration(epochsCompleted: epochsCompleted, stepsIntoEpoch: stepsIntoEpoch), to: saveURL,
            weightType: options.saveWeightType, metadata: checkpointMetadata)
    }

    /// Trains from ``startEpoch`` to `options.epochs`, evaluating on the test split and saving a
    /// checkpoint (with `save`, on rank 0) after each epoch. With several ranks, each computes its
    /// share of every global batch and the gradients are averaged (``DataParallelLoop``); the
    /// reports carry the global loss, accuracy and samples per second on every rank.
    /// - Parameters:
    ///   - shouldStop: checked after every step; when true (on any rank) the run saves the last
    ///     complete epoch's state plus the steps taken since (with `save`) and returns
    ///     ``TrainingOutcome/interrupted(epoch:savedTo:)``.
    ///   - progress: called whenever the loop reads the losses back.
    ///   - stepLoss: called with each step's number (over the whole run) and global mean loss,
    ///     whenever the loop reads the losses back.
    ///   - epochEnded: called with each epoch's report.
    public func run(
        shouldStop: () -> Bool = { false }, progress: (TrainingProgress) -> Void = { _ in },
        stepLoss: (Int, Double) -> Void = { _, _ in }, epochEnded: (EpochReport) throws -> Void = { _ in }
    ) throws -> TrainingOutcome {
        let parallel = communicator.size > 1
            ? try DataParallelLoop(trainer: trainer, communicator: communicator, balance: options.balance,
                                   timeout: communicationTimeout, batchesPerEpoch: loader.batchesPerEpoch)
            : nil
        for epoch in startEpoch...options.epochs {
            let skipping = epoch == startEpoch ? startStep : 0
            let stepsBefore = trainer.attemptedSteps
            try device.synchronize()
            try device.resetPeakMemory()
            let epochSpan = Profiler.begin("epoch \(epoch)", category: "epoch", arguments: ["epoch": "\(epoch)"])
            defer { epochSpan.end() }
            let trainingSpan = Profiler.begin("train", category: "epoch", arguments: ["epoch": "\(epoch)"])
            let result: (loss: Double, samples: Int, seconds: Double, interrupted: Bool)
            var shares: [Int]?
            var batchesDone = 0
            if let parallel {
                let epochResult = try parallel.trainEpoch(
                    loader, epoch: epoch, skipping: skipping, shouldStop: shouldStop, progress: progress, stepLoss: stepLoss)
                result = (epochResult.loss, epochResult.samples, epochResult.seconds, epochResult.interrupted)
                shares = epochResult.shares
                batchesDone = epochResult.batchesDone
            } else {
                result = try trainer.trainEpoch(
                    loader, epoch: epoch, skipping: skipping, shouldStop: shouldStop, progress: progress, stepLoss: stepLoss)
            }
            try device.synchronize()
            trainingSpan.end()
            let peakDeviceBytes = try device.memoryStatistics.peakLiveBytes
            if result.interrupted {
                // The checkpoint records where in the epoch the run stopped, so a resumed run continues there.
                let stepsIntoEpoch = parallel == nil ? skipping + trainer.attemptedSteps - stepsBefore : batchesDone
                try saveCheckpoint(epochsCompleted: epoch - 1, stepsIntoEpoch: stepsIntoEpoch)
                return .interrupted(epoch: epoch, savedTo: communicator.rank == 0 ? saveURL : nil)
            }
            let evaluationSpan = Profiler.begin("evaluate", category: "epoch", arguments: ["epoch": "\(epoch)"])
            let evaluation: Evaluation
            if let parallel {
                let result = try parallel.evaluate(data.split.test, shouldStop: shouldStop)
                if result.stop {
                    // The epoch's training is complete: keep it, without its evaluation.
                    try saveCheckpoint(epochsCompleted: epoch)
                    return .interrupted(epoch: epoch, savedTo: communicator.rank == 0 ? saveURL : nil)
                }
                evaluation = result.evaluation
            } else {
                evaluation = try trainer.evaluate(data.split.test)
            }
            evaluationSpan.end()
            var report = EpochReport(
                epoch: epoch, trainLoss: result.loss, evaluation: evaluation,
                seconds: result.seconds, samplesPerSecond: Double(result.samples) / max(result.seconds, 1e-9),
                device: parallel == nil ? device.id : rankDevices.map { String($0.prefix { $0 != " " }) }.joined(separator: ","),
                learningRate: Double(optimizer.learningRate), steps: optimizer.stepCount)
            if parallel != nil {
                report.ranks = communicator.size
                report.batchShares = shares
            }
            report.precision = options.precision.rawValue
            report.peakDeviceBytes = peakDeviceBytes
            if let scaler = trainer.lossScaler {
                report.lossScale = Double(scaler.scale)
                report.skippedSteps = scaler.skippedSteps
            }
            try epochEnded(report)
            try profiled("save checkpoint", category: "epoch") { try saveCheckpoint(epochsCompleted: epoch) }
        }
        return .completed
    }

    /// For the linear model on regression data: its coefficients in the original feature units,
    /// with the feature names (`x0`, `x1`, … when the data has none); `nil` for other models.
    public func linearCoefficients() throws -> (names: [String], coefficients: LinearCoefficients)? {
        guard modelKind == .linear, data.task == .regression, let model = model as? Sequential else { return nil }
        let coefficients = try LinearCoefficients(model: model, standardization: data.standardization)
        return (data.featureColumns ?? coefficients.weights.indices.map { "x\($0)" }, coefficients)
    }
}

/// How a training run ended.
public enum TrainingOutcome: Sendable, Equatable {
    /// Every epoch was trained.
    case completed
    /// Stopped during `epoch` (1-based) on request; `savedTo` is the checkpoint written, if any.
    case interrupted(epoch: Int, savedTo: URL?)
}
