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

    /// The flags as the library's options.
    var options: TrainingOptions {
        var options = TrainingOptions()
        options.model = model
        options.data = data
        options.target = target
        options.task = task
        options.textColumn = textColumn
        options.labelColumn = labelColumn
        options.vocabularySize = vocabSize
        options.maxLength = maxLen
        options.initDirectory = initDirectory
        options.epochs = epochs
        options.batchSize = batchSize
        options.optimizer = optimizer
        options.learningRate = lr
        options.momentum = momentum
        options.nesterov = nesterov
        options.weightDecay = weightDecay
        options.schedule = schedule
        options.stepEpochs = stepEpochs
        options.warmup = warmup
        options.seed = seed
        options.save = save
        options.resume = resume
        options.limit = limit
        return options
    }

    func validate() throws {
        do {
            try options.validate()
        } catch let error as TrainingError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let device = try DeviceSelection.resolve(device.map { [$0] } ?? [])[0]
        let run = try TrainingRun(options: options, device: device)
        let interrupt = InterruptWatcher()
        defer { interrupt.stop() }
        if !json { Terminal.note(run.summary) }
        let display = ProgressDisplay(epochs: epochs, json: json)
        let outcome = try run.run(shouldStop: { interrupt.isRequested }, progress: display.update, epochEnded: display.report)
        if case let .interrupted(epoch, savedTo) = outcome {
            if let savedTo {
                Terminal.note("interrupted during epoch \(epoch): saved \(savedTo.path) (resume with --resume \(savedTo.path))")
            } else {
                Terminal.note("interrupted during epoch \(epoch) (nothing saved: no --save)")
            }
            throw ExitCode(130)
        }
        if !json, let (names, coefficients) = try run.linearCoefficients() {
            let terms = zip(names, coefficients.weights).map { "\($0) \(String(format: "%.4f", $1))" }
            print("coefficients: \(terms.joined(separator: ", ")), intercept \(String(format: "%.4f", coefficients.intercept))")
        }
        if let save, !json { Terminal.note("saved \(URL(fileURLWithPath: save).path)") }
    }
}
