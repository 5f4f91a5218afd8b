import ArgumentParser
import CortadoFormats
import CortadoMPI
import CortadoTraining
import Foundation

/// `cortado train`: trains a built-in model on a data set and reports each epoch.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a built-in model on images (Fashion-MNIST, MNIST-format files), a CSV file, or text (a corpus, a CSV of texts).",
        discussion: """
            Models: \(BuiltinModel.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ")).

            Example:
              cortado train --model cnn --data fashion-mnist --epochs 3 --batch-size 64 \\
                --optimizer adam --lr 0.001 --device auto --seed 1 --save model.safetensors

            Fine-tuning a pretrained encoder:
              cortado train --model bert-classifier --data movie-snippets --epochs 2
            Its defaults: --init \(PretrainedModelDirectory.defaultPath), --batch-size 32, --optimizer adamw \
            --lr 5e-5 --weight-decay 0.01 --schedule linear --warmup 0.1 --max-len 64; flags given explicitly win.

            Ctrl-C (SIGINT), SIGTERM or SIGHUP finishes the current step, saves the checkpoint (with --save) \
            and exits with status 130, 143 or 129; --resume continues from the next step.
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

    @Option(help: "Momentum (sgd, rmsprop; default 0, or the resumed checkpoint's).")
    var momentum: Float?

    @Flag(help: "Nesterov momentum (sgd; a resumed checkpoint keeps its own).")
    var nesterov = false

    @Option(help: "Weight decay (L2; decoupled for adamw; default 0, 0.01 for bert-classifier).")
    var weightDecay: Float?

    @Option(help: "Learning-rate schedule: constant, step (×0.1 every --step-epochs), cosine, linear (default constant; linear for bert-classifier).")
    var schedule: ScheduleChoice?

    @Option(help: "Epochs between step decays (with --schedule step).")
    var stepEpochs = 1

    @Option(help: "Linear warm-up: a fraction of all steps (< 1) or a number of steps (default 0; 0.1 for bert-classifier).")
    var warmup: Double?

    @Option(help: "Device: cpu, gpu[:N], opencl[:N], auto (or CORTADO_DEVICE): auto times a few steps of the model on every device and trains on the fastest, remembering the choice in the cache directory; auto:fresh measures again. Under mpirun: one for every rank, auto for the GPU numbered by the rank on its machine, or a list with one per rank (gpu:0,gpu:1,cpu).")
    var device: String?

    @Option(help: "Under mpirun: how ranks share each global batch: even, or auto (in proportion to each rank's measured speed, measured again every ten steps, or every epoch when a rank overlaps its all-reduces with the backward pass).")
    var balance: BatchBalance = .even

    @Option(help: "Under mpirun: seconds a rank waits for the others' gradients before it ends the job (a rank stopped or lost its connection).")
    var commTimeout: Double = 600

    @Option(help: "Compute each step's batch (under mpirun, each rank's share) in forward and backward passes of at most N samples whose gradients add up before the update: the same steps with less activation memory (default: the whole batch in one pass).")
    var microBatch: Int?

    @Option(help: "Write every step's global training loss to this file, one JSON object per line (step, loss).")
    var lossLog: String?

    @Option(help: "Write TensorBoard event files to this folder: per step the loss and learning rate, per epoch the --json values and histograms of the parameters (view with tensorboard --logdir DIR; --resume with the same folder continues the run).")
    var logdir: String?

    @OptionGroup var profiling: ProfileOption

    @OptionGroup var cpu: ThreadsOption

    @Option(help: "Seed of initialisation and shuffling.")
    var seed: UInt64 = 1

    @Option(help: "Precision of the forward and backward passes: fp32, or mixed precision bf16 or fp16 (float32 master weights and optimizer state; fp16 scales the loss dynamically).")
    var precision: Precision = .fp32

    @Option(help: "Write the trained model (and optimizer state) to this safetensors file.")
    var save: String?

    @Option(help: "Type of the weights --save writes: float32 (resumable), or bfloat16 or float16 for a half-size file for inference (eval, predict), without optimizer state.")
    var saveDtype: DType = .float32

    @Option(help: "Continue training from this checkpoint, with its optimizer state, batch size, learning rate, weight decay, momentum and schedule (flags given explicitly win; a linear or cosine decay then spans the new --epochs).")
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
        options.nesterov = nesterov ? true : nil
        options.weightDecay = weightDecay
        options.schedule = schedule
        options.stepEpochs = stepEpochs
        options.warmup = warmup
        options.seed = seed
        options.save = save
        options.resume = resume
        options.limit = limit
        options.balance = balance
        options.precision = precision
        options.saveWeightType = saveDtype
        return options
    }

    func validate() throws {
        do {
            try options.validate()
        } catch let error as TrainingError {
            throw ValidationError(error.description)
        }
        guard commTimeout > 0, commTimeout <= 1e7 else {
            throw ValidationError("--comm-timeout must be a number of seconds from 0 to 10000000, not \(commTimeout)")
        }
        if let microBatch, microBatch < 1 {
            throw ValidationError("--micro-batch must be a positive number of samples, not \(microBatch)")
        }
    }

    @OptionGroup var weights: NonFiniteOption

    func run() throws {
        weights.apply()
        // MPI starts only under an MPI launcher; a plain run is the group of one process.
        let communicator = try MPICommunicator.launched()
        guard communicator.size > 1 else {
            try cpu.apply()
            return try train(communicator: communicator)
        }
        do {
            try cpu.apply(localRanks: communicator.localSize)
            try train(communicator: communicator)
        } catch let exit as ExitCode {
            throw exit
        } catch let error where Self.everyRankThrows(error) {
            // Every rank has the same error: rank 0 reports it, every rank ends normally.
            if communicator.rank == 0 { throw error }
            throw ExitCode.failure
        } catch {
            // The other ranks would wait for this one: end them all.
            communicator.abort("Error: rank \(communicator.rank): \(error)", code: 1)
        }
    }

    /// Errors that every rank of a data-parallel run raises at the same point.
    private static func everyRankThrows(_ error: any Error) -> Bool {
        switch error {
        case let error as DistributedError:
            if case .communication = error { return false }
            return true
        case TrainingError.nonFiniteLoss: return true
        default: return false
        }
    }

    private func train(communicator: any Communicator) throws {
        let rank = communicator.rank, quiet = rank != 0
        // Watching before the data loads: a signal at any point leaves a checkpoint (once training
        // has started) and the signal's exit status.
        let interrupt = InterruptWatcher(quiet: quiet)
        defer { interrupt.stop() }
        // Recording is switched on before any device is used; the profiler records once the run
        // is prepared (not auto's probing steps).
        let traceRank = communicator.size > 1 ? rank : nil
        let profiler = try profiling.start(rank: traceRank, install: false)
        var profiledDevices: [Device] = []
        defer { profiling.finish(profiler, devices: profiledDevices, process: "cortado train", rank: traceRank) }
        let run: TrainingRun
        if communicator.size == 1, let probe = DeviceSelection.probe(device) {
            // A single process measures the devices on the model; ranks keep auto's mapping below.
            run = try TrainingRun(options: options, probe: probe, fallback: try Device.resolve("auto").device)
            DeviceSelection.report(run.deviceDecision, device: run.device)
        } else {
            run = try TrainingRun.prepare(options: options, communicator: communicator) {
                let environment = ProcessEnvironment.value("CORTADO_DEVICE")
                let gpus = communicator.size > 1 ? Device.all.filter { $0.type == .gpu }.count : 0
                let spec = try RankDevice.spec(
                    device ?? environment ?? "auto", rank: rank, size: communicator.size, localRank: communicator.localRank, gpus: gpus)
                return try DeviceSelection.resolve([spec], quiet: quiet)[0]
            }
        }
        run.communicationTimeout = commTimeout
        run.trainer.microBatch = microBatch
        if let status = interrupt.exitStatus { throw ExitCode(status) }  // stopped while loading: nothing trained
        if !json && !quiet { Terminal.note(run.summary) }
        let display = ProgressDisplay(epochs: epochs, json: json)
        let log = quiet ? nil : try lossLog.map { try LossLog(path: $0) }
        let board = quiet ? nil : try logdir.map {
            try TensorBoardTrainingLog(logDirectory: URL(fileURLWithPath: $0), schedule: run.schedule)
        }
        var boardError: (any Error)?
        profiledDevices = [run.device]
        if let profiler { Profiler.current = profiler }
        let outcome = try run.run(
            shouldStop: { interrupt.isRequested }, progress: { if !quiet { display.update($0) } },
            stepLoss: { step, loss in
                log?.write(step: step, loss: loss)
                do { try board?.step(step, loss: loss) } catch { boardError = boardError ?? error }
            },
            epochEnded: { report in
                if let boardError { throw boardError }
                guard !quiet else { return }
                try display.report(report)
                try board?.epoch(report, of: run)
            })
        let status = interrupt.exitStatus ?? 130
        if case let .interrupted(epoch, savedTo) = outcome {
            if quiet { throw ExitCode(status) }
            if let savedTo {
                Terminal.note("interrupted during epoch \(epoch): saved \(savedTo.path) (resume with --resume \(savedTo.path))")
            } else {
                Terminal.note("interrupted during epoch \(epoch) (nothing saved: no --save)")
            }
            throw ExitCode(status)
        }
        // A signal during the last epoch's evaluation or save: the run is complete and saved, but
        // it was asked to stop, so it does not report success.
        if let status = interrupt.exitStatus {
            if let save, !quiet { Terminal.note("interrupted after the last epoch: saved \(URL(fileURLWithPath: save).path)") }
            throw ExitCode(status)
        }
        guard !quiet else { return }
        if !json, let (names, coefficients) = try run.linearCoefficients() {
            let terms = zip(names, coefficients.weights).map { "\($0) \(String(format: "%.4f", $1))" }
            print("coefficients: \(terms.joined(separator: ", ")), intercept \(String(format: "%.4f", coefficients.intercept))")
        }
        if let save, !json { Terminal.note("saved \(URL(fileURLWithPath: save).path)") }
    }
}

/// `--loss-log`: one JSON object per step, `{"loss":…,"step":…}`.
final class LossLog {
    private let handle: FileHandle

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("--loss-log \(path): cannot create the file")
        }
        self.handle = handle
    }

    func write(step: Int, loss: Double) {
        handle.write(Data("{\"loss\":\(loss),\"step\":\(step)}\n".utf8))
    }
}
