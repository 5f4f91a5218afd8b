import CortadoTraining
import Foundation
import Testing

@Suite("Mixed-precision training runs")
struct MixedPrecisionTrainingTests {
    /// The cnn on 256 Fashion-MNIST images, one epoch.
    static func options(_ precision: Precision, save: String? = nil, saveWeightType: DType = .float32) -> TrainingOptions {
        var options = TrainingOptions()
        options.model = .cnn
        options.epochs = 1
        options.batchSize = 32
        options.limit = 256
        options.seed = 3
        options.precision = precision
        options.save = save
        options.saveWeightType = saveWeightType
        return options
    }

    @Test("bf16 and fp16 runs learn as fp32 does, report their precision, loss scale and peak memory, and keep float32 masters",
          arguments: [Device.cpu, TestDevices.openCL])
    func precisions(device: Device) throws {
        var reports: [Precision: EpochReport] = [:]
        for precision in Precision.allCases {
            let run = try TrainingRun(options: Self.options(precision), device: device)
            _ = try run.run(epochEnded: { reports[precision] = $0 })
            #expect(run.model.namedParameters().allSatisfy { $0.parameter.value.dtype == .float32 }, "\(precision) masters")
        }
        let single = try #require(reports[.fp32]), brain = try #require(reports[.bf16]), half = try #require(reports[.fp16])
        #expect(single.precision == "fp32" && brain.precision == "bf16" && half.precision == "fp16")
        // One epoch of 8 steps from the same initialisation: the losses agree to a few per cent.
        for report in [brain, half] {
            assertClose([Float(report.trainLoss), Float(report.testLoss)], [Float(single.trainLoss), Float(single.testLoss)],
                        rtol: 0.03, atol: 0, "\(report.precision ?? "") losses")
        }
        #expect(single.lossScale == nil && brain.lossScale == nil)
        #expect(half.lossScale == 65536 && half.skippedSteps == 0)
        #expect([single, brain, half].allSatisfy { ($0.peakDeviceBytes ?? 0) > 0 })
        // The JSON of an epoch line carries them.
        let json = String(decoding: try JSONEncoder().encode(half), as: UTF8.self)
        #expect(["\"precision\":\"fp16\"", "\"loss_scale\":65536", "\"skipped_steps\":0", "\"peak_device_bytes\":"].allSatisfy(json.contains), "\(json)")
    }

    @Test("--save-dtype writes a half checkpoint that evaluates like the float32 one and cannot be resumed")
    func halfCheckpoint() throws {
        let scratch = try TemporaryDirectory()
        let single = scratch.fileURL("single.safetensors"), brain = scratch.fileURL("brain.safetensors")
        _ = try TrainingRun(options: Self.options(.fp32, save: single.path), device: .cpu).run()
        _ = try TrainingRun(options: Self.options(.fp32, save: brain.path, saveWeightType: .bfloat16), device: .cpu).run()
        let sizes = try [single, brain].map { try FileManager.default.attributesOfItem(atPath: $0.path)[.size] as? Int ?? 0 }
        // Half the weights and no optimizer state (Adam's two moments): about a sixth of the size.
        #expect(sizes[1] * 5 < sizes[0], "\(sizes)")
        let checkpoint = try ModelCheckpoint(contentsOf: brain)
        #expect(checkpoint.weightType == .bfloat16)
        var resume = Self.options(.fp32)
        resume.epochs = 2
        resume.resume = brain.path
        resume.model = nil
        #expect(throws: CheckpointError.self) { try TrainingRun(options: resume, device: .cpu) }
    }
}
