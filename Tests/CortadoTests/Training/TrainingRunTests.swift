import CortadoTraining
import Foundation
import Testing

@Suite("Training recipe in the library")
struct TrainingRunTests {
    func options(_ data: TemporaryDirectory, epochs: Int) -> TrainingOptions {
        var options = TrainingOptions()
        options.model = .mlp
        options.data = data.path
        options.epochs = epochs
        options.batchSize = 4
        options.seed = 5
        options.save = data.file("run.safetensors")
        return options
    }

    @Test("a Swift caller trains, saves and resumes exactly as an uninterrupted run, without the command line")
    func runAndResume() throws {
        let data = try TemporaryDirectory()
        try writeMNISTDirectory(data, trainLabels: [0, 1, 2, 1, 0, 2, 1, 0, 2, 2], testLabels: [2, 0, 1, 1])
        var straight: [EpochReport] = []
        let full = try TrainingRun(options: options(data, epochs: 3), device: .cpu)
        #expect(try full.run(epochEnded: { straight.append($0) }) == .completed)

        let first = try TrainingRun(options: options(data, epochs: 2), device: .cpu)
        _ = try first.run()
        var resumed = options(data, epochs: 3)
        resumed.resume = data.file("run.safetensors")
        resumed.model = nil
        let second = try TrainingRun(options: resumed, device: .cpu)
        #expect(second.startEpoch == 3 && second.optimizer.stepCount == 6)
        var reports: [EpochReport] = []
        _ = try second.run(epochEnded: { reports.append($0) })
        #expect(reports.map(\.epoch) == [3])
        assertClose([Float(reports[0].trainLoss), Float(reports[0].testLoss)],
                    [Float(straight[2].trainLoss), Float(straight[2].testLoss)], rtol: 1e-6, atol: 0, "epoch 3 losses")
    }

    @Test("a resumed run keeps its optimizer, rate, decay, momentum, batch and schedule unless flags change them")
    func resumeKeepsHyperparameters() throws {
        let data = try TemporaryDirectory()
        try writeMNISTDirectory(data, trainLabels: [0, 1, 2, 1, 0, 2, 1, 0, 2, 2, 1, 0], testLabels: [2, 0, 1, 1])
        func tuned(epochs: Int) -> TrainingOptions {
            var tuned = options(data, epochs: epochs)
            tuned.optimizer = .sgd
            tuned.learningRate = 0.2
            tuned.momentum = 0.9
            tuned.nesterov = true
            tuned.weightDecay = 0.01
            tuned.batchSize = 3
            tuned.schedule = .linear
            tuned.warmup = 2
            return tuned
        }
        var straight: [EpochReport] = []
        let full = try TrainingRun(options: tuned(epochs: 3), device: .cpu)
        _ = try full.run(epochEnded: { straight.append($0) })

        // Interrupted after 5 steps (epoch 2, step 1), resumed naming only the file and the epochs.
        var steps = 0
        _ = try TrainingRun(options: tuned(epochs: 3), device: .cpu).run(shouldStop: { steps += 1; return steps == 5 })
        var resumed = options(data, epochs: 3)
        resumed.model = nil
        resumed.batchSize = nil
        resumed.resume = data.file("run.safetensors")
        let second = try TrainingRun(options: resumed, device: .cpu)
        #expect(second.batchSize == 3 && second.optimizer.name == "sgd")
        #expect(second.optimizer.hyperparameters == full.optimizer.hyperparameters)
        #expect(second.schedule == full.schedule)
        var reports: [EpochReport] = []
        _ = try second.run(epochEnded: { reports.append($0) })
        #expect(reports.map(\.epoch) == [2, 3])
        // (Epoch 2's train loss averages only the steps after the resume; its test loss is whole.)
        assertClose([reports[0].testLoss, reports[1].trainLoss, reports[1].testLoss].map { Float($0) },
                    [straight[1].testLoss, straight[2].trainLoss, straight[2].testLoss].map { Float($0) }, rtol: 1e-6, atol: 0,
                    "epochs 2 and 3 after resuming")

        // Extended past its planned end, the linear decay spans the new total; a flag still wins.
        var extended = resumed
        extended.epochs = 5
        extended.learningRate = 0.1
        let third = try TrainingRun(options: extended, device: .cpu)
        #expect(third.schedule == LearningRateSchedule(base: 0.1, shape: .linear, warmupSteps: 2, totalSteps: 20))
        #expect(third.optimizer.hyperparameters["momentum"] == 0.9)
    }

    @Test("the recipe refuses what the command line refused: bad options, a finished checkpoint, another model")
    func refusals() throws {
        let data = try TemporaryDirectory()
        try writeMNISTDirectory(data, trainLabels: [0, 1, 2, 1, 0, 2], testLabels: [2, 0, 1])
        var bad = options(data, epochs: 1)
        bad.batchSize = 0
        #expect(throws: TrainingError.invalidOption("--batch-size must be at least 1, not 0")) { try TrainingRun(options: bad, device: .cpu) }
        _ = try TrainingRun(options: options(data, epochs: 1), device: .cpu).run()
        var again = options(data, epochs: 1)
        again.resume = data.file("run.safetensors")
        #expect(throws: TrainingError.self) { try TrainingRun(options: again, device: .cpu) }
        again.epochs = 2
        again.model = .cnn
        let error = #expect(throws: TrainingError.self) { try TrainingRun(options: again, device: .cpu) }
        #expect(error?.description.contains("holds a mlp model, not cnn") == true)
    }

    @Test("stopping mid-epoch saves the state and says where")
    func interruptSaves() throws {
        let data = try TemporaryDirectory()
        try writeMNISTDirectory(data, trainLabels: [0, 1, 2, 1, 0, 2, 1, 0, 2, 2], testLabels: [2, 0, 1, 1])
        let run = try TrainingRun(options: options(data, epochs: 2), device: .cpu)
        var steps = 0
        let outcome = try run.run(shouldStop: { steps += 1; return steps == 2 })
        #expect(outcome == .interrupted(epoch: 1, savedTo: URL(fileURLWithPath: data.file("run.safetensors"))))
        let saved = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: data.file("run.safetensors")))
        #expect(saved.configuration.steps == 2 && saved.configuration.epochsCompleted == 0)
    }
}
