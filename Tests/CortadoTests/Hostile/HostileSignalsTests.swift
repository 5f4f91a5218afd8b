import CortadoNN
import CortadoTraining
import Foundation
import Testing

/// Signals and interrupted runs: every stop signal leaves a loadable checkpoint and the signal's
/// exit status, and a resumed run continues from the step where the interrupted one stopped.
@Suite("Hostile input: signals and exact resume")
struct HostileSignalsTests {
    func options(_ data: TemporaryDirectory, epochs: Int, save: String) -> TrainingOptions {
        var options = TrainingOptions()
        options.model = .mlp
        options.data = data.path
        options.epochs = epochs
        options.batchSize = 2
        options.seed = 9
        options.optimizer = .adam
        options.schedule = .cosine
        options.warmup = 3
        options.save = save
        return options
    }

    @Test("an epoch interrupted after some steps resumes at the next step: the weights equal an uninterrupted run's bit for bit",
          arguments: [1, 3, 5])
    func exactResume(stopAfter: Int) throws {
        let data = try TemporaryDirectory()
        try writeMNISTDirectory(data, trainLabels: [0, 1, 2, 1, 0, 2, 1, 0, 2, 2, 1, 0], testLabels: [2, 0, 1, 1])
        let scratch = try TemporaryDirectory()
        let straight = try TrainingRun(options: options(data, epochs: 3, save: scratch.file("straight.safetensors")), device: .cpu)
        #expect(try straight.run() == .completed)

        // Stop in epoch 2 (6 steps per epoch) after `stopAfter` of its steps.
        let interrupted = try TrainingRun(options: options(data, epochs: 3, save: scratch.file("run.safetensors")), device: .cpu)
        var steps = 0
        let outcome = try interrupted.run(shouldStop: { steps += 1; return steps == 6 + stopAfter })
        #expect(outcome == .interrupted(epoch: 2, savedTo: URL(fileURLWithPath: scratch.file("run.safetensors"))))
        let saved = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: scratch.file("run.safetensors")))
        #expect(saved.configuration.epochsCompleted == 1 && saved.configuration.stepsIntoEpoch == stopAfter)

        var resumed = options(data, epochs: 3, save: scratch.file("run.safetensors"))
        resumed.resume = scratch.file("run.safetensors")
        let second = try TrainingRun(options: resumed, device: .cpu)
        #expect(second.startEpoch == 2 && second.startStep == stopAfter)
        #expect(try second.run() == .completed)
        #expect(second.optimizer.stepCount == straight.optimizer.stepCount)
        let expected = Dictionary(uniqueKeysWithValues: straight.model.namedParameters().map { ($0.name, $0.parameter.value) })
        for (name, parameter) in second.model.namedParameters() {
            let want = try #require(expected[name])
            #expect(try parameter.value.toArray() == want.toArray(), "\(name) differs from the uninterrupted run")
        }
    }

    @Test("an interrupted fp16 run with dropout resumes on the uninterrupted path: its random stream and loss scaler are restored",
          arguments: [1, 4])
    func exactResumeWithDropoutAndLossScaling(stopAfter: Int) throws {
        let data = try TemporaryDirectory()
        let csv = try TextFixtures.sentimentCSV(in: data, rows: 12)
        let scratch = try TemporaryDirectory()
        func lstm(save: String) -> TrainingOptions {
            var options = TrainingOptions()
            options.model = .lstm  // Dropout(0.5) before and after its recurrent layers
            options.data = csv
            options.maxLength = 8
            options.epochs = 3
            options.batchSize = 2
            options.seed = 5
            options.precision = .fp16
            options.save = save
            return options
        }
        let straight = try TrainingRun(options: lstm(save: scratch.file("straight.safetensors")), device: .cpu)
        #expect(try straight.run() == .completed)
        let perEpoch = straight.loader.batchesPerEpoch

        let interrupted = try TrainingRun(options: lstm(save: scratch.file("run.safetensors")), device: .cpu)
        var steps = 0
        _ = try interrupted.run(shouldStop: { steps += 1; return steps == perEpoch + stopAfter })
        let saved = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: scratch.file("run.safetensors")))
        #expect(saved.configuration.stepsIntoEpoch == stopAfter)
        #expect(saved.configuration.lossScaler == interrupted.trainer.lossScaler?.state)

        var resumed = lstm(save: scratch.file("run.safetensors"))
        resumed.resume = scratch.file("run.safetensors")
        let second = try TrainingRun(options: resumed, device: .cpu)
        #expect(try second.run() == .completed)
        let scaler = try #require(second.trainer.lossScaler?.state)
        #expect(scaler == straight.trainer.lossScaler?.state, "the loss scaler took another path: \(scaler)")
        let expected = Dictionary(uniqueKeysWithValues: straight.model.namedParameters().map { ($0.name, $0.parameter.value) })
        for (name, parameter) in second.model.namedParameters() {
            let want = try #require(expected[name])
            #expect(try parameter.value.toArray() == want.toArray(), "\(name) differs from the uninterrupted run")
        }
    }

    @Test("a checkpoint whose loss scaler is not positive and finite is refused, naming the field")
    func corruptLossScaler() throws {
        var configuration = CheckpointConfiguration(
            model: .mlp, task: .classification, sampleShape: [2], outputs: 2, data: "d", targetColumn: nil,
            featureColumns: nil, standardization: nil, optimizer: "adam", optimizerHyperparameters: [:],
            schedule: LearningRateSchedule(base: 0.1, shape: .constant), steps: 0, epochsCompleted: 0, batchSize: 1, seed: 1)
        try configuration.validate(url: URL(fileURLWithPath: "ok.safetensors"))
        for state in [LossScaler.State(scale: 0, cleanSteps: 0, skippedSteps: 0), .init(scale: .infinity, cleanSteps: 0, skippedSteps: 0),
                      .init(scale: 8, cleanSteps: -1, skippedSteps: 0)] {
            configuration.lossScaler = state
            #expect {
                try configuration.validate(url: URL(fileURLWithPath: "bad.safetensors"))
            } throws: { error in
                "\(error)".contains("bad.safetensors") && "\(error)".contains("lossScaler")
            }
        }
    }

    /// A directory of `count` 3×2 training images, so that an epoch of one-sample steps takes a while.
    func longData(count: Int = 3000, testCount: Int = 4) throws -> TemporaryDirectory {
        let data = try TemporaryDirectory()
        try writeMNISTDirectory(data, trainLabels: (0..<count).map { UInt8($0 % 3) }, testLabels: (0..<testCount).map { UInt8($0 % 3) })
        return data
    }

    /// Starts `cortado train` on `data`, waits until it trains, sends `signal`, and returns the
    /// exit status (or `nil` when the process was killed by a signal) and stderr.
    func interrupt(_ signal: Int32, data: TemporaryDirectory, save: String, extra: [String] = [],
                   delay: useconds_t = 300_000) throws -> (status: Int32?, stderr: String) {
        let scratch = try TemporaryDirectory()
        let out = scratch.fileURL("stdout"), err = scratch.fileURL("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = Cortado.executable
        process.arguments = ["train", "--model", "mlp", "--data", data.path, "--batch-size", "1", "--epochs", "1000",
                             "--device", "cpu", "--save", save] + extra
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, process.isRunning {
            let text = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            if text.contains("training mlp") { break }
            usleep(10_000)
        }
        usleep(delay)
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        return (process.terminationReason == .exit ? process.terminationStatus : nil, stderr)
    }

    @Test("SIGINT, SIGTERM and SIGHUP each save a loadable checkpoint and exit 130, 143, 129",
          arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143)), (SIGHUP, Int32(129))])
    func stopSignals(signal: Int32, status: Int32) throws {
        let data = try longData()
        let scratch = try TemporaryDirectory()
        let save = scratch.file("model.safetensors")
        let result = try interrupt(signal, data: data, save: save)
        #expect(result.status == status, "\(result.stderr)")
        let checkpoint = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: save))
        _ = try checkpoint.makeTrainedModel(device: .cpu)
        #expect(checkpoint.configuration.steps > 0)
        #expect(result.stderr.contains("resume with --resume"), "\(result.stderr)")
        #expect(try scratch.listing() == ["model.safetensors"], "temporary files left behind")
    }

    @Test("a signal during the last epoch's evaluation or save does not report success")
    func signalDuringLastEpoch() throws {
        // One short epoch, then a long evaluation (300,000 test images): the signal lands after
        // the last training step, and the run, complete and saved, still exits 130.
        let data = try longData(count: 4, testCount: 300_000)
        let scratch = try TemporaryDirectory()
        let save = scratch.file("model.safetensors")
        let result = try interrupt(SIGINT, data: data, save: save, extra: ["--epochs", "1"], delay: 100_000)
        #expect(result.status == 130, "\(result.stderr)")
        _ = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: save)).makeTrainedModel(device: .cpu)
    }
}
