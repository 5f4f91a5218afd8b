import ArgumentParser
import CortadoTraining
import Foundation

/// `cortado train`: trains a built-in model on a data set and reports each epoch.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a built-in model on Fashion-MNIST, any MNIST-format directory, or a CSV file.",
        discussion: """
            Models: \(BuiltinModel.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ")).

            Example:
              cortado train --model cnn --data fashion-mnist --epochs 3 --batch-size 64 \\
                --optimizer adam --lr 0.001 --device auto --seed 1 --save model.safetensors

            Fine-tuning a pretrained encoder:
              cortado train --model bert-classifier --data movie-snippets --epochs 2
            Its defaults: --init \(PretrainedModelDirectory.defaultPath), --batch-size 32, --optimizer adamw \
            --lr 5e-5 --weight-decay 0.01 --schedule linear --warmup 0.1 --max-len 64; flags given explicitly win.

            Ctrl-C finishes the current step, saves the checkpoint (with --save) and exits.
            """)

    @Option(help: "The model: \(BuiltinModel.allCases.map(\.rawValue).joined(separator: ", ")) (default: cnn, or the resumed checkpoint's).")
    var model: BuiltinModel?

    @Option(help: "fashion-mnist, a directory of MNIST-format IDX files, a .csv/.tsv file, or a text corpus: movie-snippets, sms-spam, trec (default: fashion-mnist, or the resumed checkpoint's).")
    var data: String?

    @Option(help: "The CSV column to predict (CSV data only).")
    var target: String?

    @Option(help: "classification, binary-classification or regression (default: from the data; CSV targets are regression).")
    var task: Task?

    @Option(help: "Text data: the CSV column holding the text (default \"text\").")
    var textColumn: String?

    @Option(help: "Text data: the CSV column holding the label (default \"label\").")
    var labelColumn: String?

    @Option(help: "Text models: vocabulary size, counting the padding and unknown-word entries.")
    var vocabSize = 10_000

    @Option(help: "Text models: tokens per text (lstm, gru: padded or truncated at the front, as Keras' pad_sequences; bert-classifier: word pieces with [CLS] and [SEP], truncated at the end, each batch padded to its longest).")
    var maxLen = 64

    @Option(name: .customLong("init"), help: "bert-classifier: the Hugging Face BERT model directory to fine-tune (config.json, model.safetensors, vocab.txt; default \(PretrainedModelDirectory.defaultPath)).")
    var initDirectory: String?

    @Option(help: "Epochs to train (in total, counting a resumed checkpoint's).")
    var epochs = 3

    @Option(help: "Samples per step (default 64; 32 for bert-classifier).")
    var batchSize: Int?

    @Option(help: "The optimizer: \(OptimizerChoice.allCases.map(\.rawValue).joined(separator: ", ")) (default adam; adamw for bert-classifier).")
    var optimizer: OptimizerChoice?

    @Option(help: "Learning rate (default: 0.001 for adam, adamw, rmsprop; 0.01 for sgd, adagrad; 5e-5 for bert-classifier).")
    var lr: Float?

    @Option(help: "Momentum (sgd, rmsprop).")
    var momentum: Float = 0

    @Flag(help: "Nesterov momentum (sgd).")
    var nesterov = false

    @Option(help: "Weight decay (L2; decoupled for adamw; default 0, 0.01 for bert-classifier).")
    var weightDecay: Float?

    @Option(help: "Learning-rate schedule: constant, step (×0.1 every --step-epochs), cosine, linear (default constant; linear for bert-classifier).")
    var schedule: ScheduleChoice?

    @Option(help: "Epochs between step decays (with --schedule step).")
    var stepEpochs = 1

    @Option(help: "Linear warm-up: a fraction of all steps (< 1) or a number of steps (default 0; 0.1 for bert-classifier).")
    var warmup: Double?

    @Option(help: "Device: cpu, gpu[:N], opencl[:N], auto (or CORTADO_DEVICE).")
    var device: String?

    @Option(help: "Seed of initialisation and shuffling.")
    var seed: UInt64 = 1

    @Option(help: "Write the trained model (and optimizer state) to this safetensors file.")
    var save: String?

    @Option(help: "Continue training from this checkpoint, with its optimizer state.")
    var resume: String?

    @Option(help: "Train on the first N training samples only.")
    var limit: Int?

    @Flag(help: "Print one JSON object per epoch on stdout.")
    var json = false

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be at least 1, not \(epochs)") }
        if let batchSize, batchSize <= 0 { throw ValidationError("--batch-size must be at least 1, not \(batchSize)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, not \(lr)") }
        guard momentum >= 0 && momentum < 1 else { throw ValidationError("--momentum must be in [0, 1), not \(momentum)") }
        if let weightDecay, !(weightDecay >= 0) { throw ValidationError("--weight-decay must not be negative") }
        if let warmup, !(warmup >= 0) { throw ValidationError("--warmup must not be negative") }
        guard stepEpochs > 0 else { throw ValidationError("--step-epochs must be positive") }
        guard vocabSize >= 3 else { throw ValidationError("--vocab-size must be at least 3, not \(vocabSize)") }
        guard maxLen > 0 else { throw ValidationError("--max-len must be positive, not \(maxLen)") }
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive, not \(limit)") }
    }

    func run() throws {
        // Check everything that can fail cheaply before loading data or training.
        let saveURL = save.map { URL(fileURLWithPath: $0) }
        if let saveURL { try SafeTensors.checkWritable(saveURL) }
        let checkpoint = try resume.map { try ModelCheckpoint(contentsOf: URL(fileURLWithPath: $0)) }
        let device = try DeviceSelection.resolve(device.map { [$0] } ?? [])[0]

        let recorded = checkpoint?.configuration
        if let recorded, let requested = self.model, requested != recorded.model, let resume {
            throw ValidationError("\(resume) holds a \(recorded.model.rawValue) model, not \(requested.rawValue); leave out --model to resume it")
        }
        let modelKind = recorded?.model ?? self.model ?? .cnn
        if let initDirectory {
            guard modelKind.readsWordPieces else {
                throw ValidationError("--init \(initDirectory) loads a pretrained BERT for --model bert-classifier, not for the \(modelKind.rawValue) model")
            }
            if let resume { throw ValidationError("--resume \(resume) continues from the checkpoint's own weights; leave out --init") }
        }
        let defaults = TrainingDefaults(modelKind)
        let batchSize = self.batchSize ?? defaults.batchSize
        // Resuming on other data (fine-tuning) is allowed when the data fits the model.
        let dataSpec = self.data ?? recorded?.data ?? "fashion-mnist"
        let generator = RandomGenerator(seed: seed)
        let data = try loadData(dataSpec, modelKind: modelKind, recorded: recorded, device: device, generator: generator)
        var train = data.split.train
        if let limit { train = train.prefix(limit) }
        let outputs = data.task.outputs(classes: data.classCount)
        let loader = try BatchLoader(dataset: train, batchSize: batchSize, shuffle: true, seed: seed)

        let model: any Module
        let startEpoch: Int
        if let checkpoint, let recorded {
            if let saved = recorded.classNames, let classes = data.classNames, saved != classes {
                throw TrainingError.incompatibleData("the checkpoint predicts the classes \(saved), but \(dataSpec) has \(classes)")
            }
            guard recorded.sampleShape == train.sampleShape, recorded.outputs == outputs else {
                throw TrainingError.incompatibleData("the checkpoint's model takes \(recorded.sampleShape) → \(recorded.outputs); \(dataSpec) has \(train.sampleShape) → \(outputs)")
            }
            guard recorded.epochsCompleted < epochs else {
                throw ValidationError("the checkpoint has already trained \(recorded.epochsCompleted) epochs; pass --epochs greater than that")
            }
            model = try checkpoint.makeTrainedModel(device: device)
            startEpoch = recorded.epochsCompleted + 1
        } else if let pretrained = data.pretrained {
            model = pretrained.model
            startEpoch = 1
        } else {
            model = try modelKind.make(
                sampleShape: train.sampleShape, outputs: outputs, vocabulary: data.tokenizer?.vocabularySize, device: device,
                generator: generator)
            startEpoch = 1
        }
        let optimizerChoice = self.optimizer ?? defaults.optimizer
        let learningRate = lr ?? defaults.learningRate ?? optimizerChoice.defaultLearningRate
        let optimizer = try optimizerChoice.make(
            model.trainableParameters(), learningRate: learningRate, momentum: momentum, nesterov: nesterov,
            weightDecay: weightDecay ?? defaults.weightDecay)
        if let checkpoint { try checkpoint.restore(optimizer, device: device) }

        let totalSteps = loader.batchesPerEpoch * epochs
        let warmup = self.warmup ?? defaults.warmup
        let warmupSteps = warmup < 1 ? Int(warmup * Double(totalSteps)) : Int(warmup)
        let shape: LearningRateSchedule.Shape
        switch schedule ?? defaults.schedule {
        case .constant: shape = .constant
        case .step: shape = .step(every: stepEpochs * loader.batchesPerEpoch, factor: 0.1)
        case .cosine: shape = .cosine(minimumFactor: 0)
        case .linear: shape = .linear
        }
        let learningRateSchedule = LearningRateSchedule(base: learningRate, shape: shape, warmupSteps: warmupSteps, totalSteps: totalSteps)
        let trainer = Trainer(model: model, optimizer: optimizer, schedule: learningRateSchedule, task: data.task, device: device,
                              readsTokens: modelKind.readsTokens, paddingId: data.wordPieces?.paddingId)

        let readsText = modelKind.readsText
        func configuration(epochsCompleted: Int) -> CheckpointConfiguration {
            CheckpointConfiguration(
                model: modelKind, task: data.task, sampleShape: train.sampleShape, outputs: outputs,
                data: dataSpec, targetColumn: target ?? recorded?.targetColumn,
                featureColumns: data.featureColumns, standardization: data.standardization, optimizer: optimizer.name,
                optimizerHyperparameters: optimizer.hyperparameters, schedule: learningRateSchedule, steps: optimizer.stepCount,
                epochsCompleted: epochsCompleted, batchSize: batchSize, seed: seed, tokenizer: data.tokenizer,
                maxLength: readsText ? train.sampleShape[0] : nil, classNames: data.classNames,
                textColumn: readsText ? (textColumn ?? recorded?.textColumn) : nil,
                labelColumn: readsText ? (labelColumn ?? recorded?.labelColumn) : nil, bert: data.bert)
        }

        let interrupt = InterruptWatcher()
        defer { interrupt.stop() }
        if !json {
            Terminal.note("training \(modelKind.rawValue) (\(model.parameterCount) parameters) on \(train.count) samples of \(dataSpec), \(data.task.rawValue), on \(device.id) (\(try device.info.name))")
        }
        let display = ProgressDisplay(epochs: epochs, json: json)
        for epoch in startEpoch...epochs {
            let result = try trainer.trainEpoch(loader, epoch: epoch, shouldStop: { interrupt.isRequested }, progress: display.update)
            if result.interrupted {
                if let saveURL {
                    try ModelCheckpoint.save(model: model, optimizer: optimizer, configuration: configuration(epochsCompleted: epoch - 1), to: saveURL)
                    Terminal.note("interrupted during epoch \(epoch): saved \(saveURL.path) (resume with --resume \(saveURL.path))")
                } else {
                    Terminal.note("interrupted during epoch \(epoch) (nothing saved: no --save)")
                }
                throw ExitCode(130)
            }
            let evaluation = try trainer.evaluate(data.split.test)
            try display.report(EpochReport(
                epoch: epoch, trainLoss: result.loss, evaluation: evaluation,
                seconds: result.seconds, samplesPerSecond: Double(result.samples) / max(result.seconds, 1e-9),
                device: device.id, learningRate: Double(optimizer.learningRate), steps: optimizer.stepCount))
            if let saveURL {
                try ModelCheckpoint.save(model: model, optimizer: optimizer, configuration: configuration(epochsCompleted: epoch), to: saveURL)
            }
        }
        if modelKind == .linear, data.task == .regression, !json, let model = model as? Sequential {
            let coefficients = try LinearCoefficients(model: model, standardization: data.standardization)
            let names = data.featureColumns ?? coefficients.weights.indices.map { "x\($0)" }
            let terms = zip(names, coefficients.weights).map { "\($0) \(String(format: "%.4f", $1))" }
            print("coefficients: \(terms.joined(separator: ", ")), intercept \(String(format: "%.4f", coefficients.intercept))")
        }
        if let saveURL, !json { Terminal.note("saved \(saveURL.path)") }
    }

    /// What training reads: the split and what a checkpoint must remember to reproduce it.
    struct TrainingData {
        var split: DatasetSplit
        var standardization: FeatureStandardization?
        var task: Task
        var featureColumns: [String]?
        var tokenizer: Tokenizer?
        var classNames: [String]?
        /// bert-classifier: the WordPiece tokenizer, the settings to record, and (when not resuming)
        /// the pretrained encoder with its new head.
        var wordPieces: WordPieceTokenizer?
        var bert: BertClassifierSettings?
        var pretrained: PretrainedClassifier?
        /// The training split's classes (stored: reading `split.train.classCount` inside `run()`
        /// crashed Swift 6.3.1's optimiser, CopyPropagation on a borrowed enum).
        var classCount: Int?
    }

    /// The training data: token sequences for the text models (a fitted tokenizer, or the
    /// resumed checkpoint's), feature values for the others.
    private func loadData(
        _ spec: String, modelKind: BuiltinModel, recorded: CheckpointConfiguration?, device: Device, generator: RandomGenerator
    ) throws -> TrainingData {
        if modelKind.readsWordPieces { return try loadWordPieces(spec, recorded: recorded, device: device, generator: generator) }
        if modelKind.readsTokens { return try loadText(spec, recorded: recorded) }
        if TextData.isText(spec, textColumn: textColumn ?? recorded?.textColumn) {
            throw ValidationError("--data \(spec) is text: train it with --model lstm, gru or bert-classifier")
        }
        return try loadFeatures(spec, recorded: recorded)
    }

    private func loadText(_ spec: String, recorded: CheckpointConfiguration?) throws -> TrainingData {
        let text = try TextData.forTraining(
            spec, textColumn: textColumn ?? recorded?.textColumn, labelColumn: labelColumn ?? recorded?.labelColumn,
            vocabularySize: vocabSize, maxLength: recorded?.maxLength ?? maxLen, reusing: recorded?.tokenizer)
        let task: Task = text.classNames.count == 2 ? .binaryClassification : .classification
        return TrainingData(split: text.split, task: task, tokenizer: text.tokenizer, classNames: text.classNames,
                            classCount: text.classNames.count)
    }

    private func loadFeatures(_ spec: String, recorded: CheckpointConfiguration?) throws -> TrainingData {
        let data = try DataLoading.forTraining(spec, target: target ?? recorded?.targetColumn, task: task ?? recorded?.task)
        let classes = data.split.train.classCount
        return TrainingData(
            split: data.split, standardization: data.standardization, task: data.task, featureColumns: data.featureColumns,
            classNames: classes.map { count in (0..<count).map { String($0) } }, classCount: classes)
    }
}
