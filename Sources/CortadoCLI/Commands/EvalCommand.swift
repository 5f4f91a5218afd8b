import ArgumentParser
import CortadoTraining
import Foundation

/// `cortado eval`: test loss and accuracy of a checkpoint.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint on the test split of a data set.",
        discussion: """
            Example:
              cortado eval --checkpoint model.safetensors --data fashion-mnist \\
                --device opencl --json
            """)

    @Option(help: "A checkpoint written by `cortado train --save`.")
    var checkpoint: String

    @Option(help: "The data (default: what the checkpoint was trained on).")
    var data: String?

    @Option(help: "Device: cpu, gpu[:N], opencl[:N], auto (or CORTADO_DEVICE).")
    var device: String?

    @Option(help: "Samples per evaluation batch.")
    var batchSize = 500

    @Flag(help: "Print a JSON object with test_loss and test_accuracy.")
    var json = false

    func validate() throws {
        guard batchSize > 0, batchSize <= TrainingOptions.Limits.batchSize else {
            throw ValidationError("--batch-size must be between 1 and \(TrainingOptions.Limits.batchSize), not \(batchSize)")
        }
    }

    struct Result: Encodable {
        let testLoss: Double
        let testAccuracy: Double?
        let testPrecision: Double?
        let testRecall: Double?
        let testF1: Double?
        let samples: Int
        let device: String
        let checkpoint: String
    }

    @OptionGroup var cpu: ThreadsOption

    @OptionGroup var weights: NonFiniteOption

    @OptionGroup var profiling: ProfileOption

    func run() throws {
        weights.apply()
        try cpu.apply()
        let profiler = try profiling.start(install: false)
        var profiledDevices: [Device] = []
        defer { profiling.finish(profiler, devices: profiledDevices, process: "cortado eval") }
        let saved = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
        let device = try DeviceSelection.resolve(device.map { [$0] } ?? [])[0]
        let spec = data ?? saved.configuration.data
        let test = saved.configuration.readsText
            ? try TextData.forEvaluation(spec, checkpoint: saved.configuration)
            : try DataLoading.forEvaluation(spec, checkpoint: saved.configuration)
        try MemoryBudget.requireEvaluation(
            configuration: saved.configuration, batchSize: batchSize, samples: test.count,
            residentBytes: 4 * Double(test.features.count), device: device)
        let model = try saved.makeTrainedModel(device: device)
        let optimizer = try SGD(model.trainableParameters(), learningRate: 1)  // unused: evaluation only
        let trainer = Trainer(model: model, optimizer: optimizer, schedule: LearningRateSchedule(base: 1),
                              task: saved.configuration.task, device: device, readsTokens: saved.configuration.model.readsTokens,
                              paddingId: try saved.configuration.bert?.tokenizer().paddingId,
                              precision: Precision(computeType: saved.weightType) ?? .fp32)  // a --save-dtype file runs in its type
        profiledDevices = [device]
        if let profiler { Profiler.current = profiler }
        let evaluation = try profiled("evaluate", category: "eval") { try trainer.evaluate(test, batchSize: batchSize) }
        let result = Result(testLoss: evaluation.loss, testAccuracy: evaluation.accuracy, testPrecision: evaluation.precision,
                            testRecall: evaluation.recall, testF1: evaluation.f1, samples: evaluation.count,
                            device: device.id, checkpoint: checkpoint)
        if json {
            print(try Terminal.jsonLine(result))
        } else {
            var line = String(format: "test loss %.4f", evaluation.loss)
            if let accuracy = evaluation.accuracy { line += String(format: "  test accuracy %.4f", accuracy) }
            if let precision = evaluation.precision, let recall = evaluation.recall, let f1 = evaluation.f1 {
                line += String(format: "  precision %.4f  recall %.4f  F1 %.4f", precision, recall, f1)
            }
            print(line + "  (\(evaluation.count) samples, \(device.id))")
        }
    }
}
