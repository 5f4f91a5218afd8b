import CortadoTraining
import Foundation
import Testing

/// Reads every tensor of a safetensors file with Python's `safetensors` package (numpy, with
/// ml_dtypes for bfloat16) and prints name → [dtype, values as floats].
private let referenceReader = #"""
import json, sys
import ml_dtypes, numpy as np
from safetensors.numpy import load_file
tensors = load_file(sys.argv[1])
print(json.dumps({name: [str(t.dtype), t.astype(np.float64).ravel().tolist()] for name, t in tensors.items()}))
"""#

@Suite("Checkpoints in half precision (--save-dtype)")
struct CheckpointPrecisionTests {
    static func configuration(steps: Int) -> CheckpointConfiguration {
        CheckpointConfiguration(
            model: .mlp, task: .classification, sampleShape: [1, 4, 4], outputs: 3, data: "test", targetColumn: nil,
            featureColumns: nil, standardization: nil, optimizer: "adam", optimizerHyperparameters: [:],
            schedule: LearningRateSchedule(base: 0.01), steps: steps, epochsCompleted: 1, batchSize: 2, seed: 1)
    }

    @Test("bfloat16 and float16 checkpoints hold the rounded weights, which Python's safetensors reads, and load for inference",
          arguments: [DType.bfloat16, .float16])
    func halfCheckpoints(dtype: DType) throws {
        let model = try BuiltinModel.mlp.make(sampleShape: [1, 4, 4], outputs: 3, device: .cpu, generator: RandomGenerator(seed: 4))
        let optimizer = try Adam(model.namedParameters(), learningRate: 0.01)
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model-\(dtype).safetensors")
        try ModelCheckpoint.save(model: model, optimizer: optimizer, configuration: Self.configuration(steps: 0), to: url, weightType: dtype)

        let checkpoint = try ModelCheckpoint(contentsOf: url)
        #expect(checkpoint.weightType == dtype)
        #expect(!checkpoint.file.tensors.contains { $0.name.hasPrefix("optimizer.") }, "no optimizer state")
        let expected = try model.stateTensors().map { ($0.name, try $0.tensor.to(dtype: dtype).toArray()) }
        // Python's reference implementation reads the same values.
        let output = try runPython(referenceReader, arguments: [url.path], interpreter: toolingPython)
        let python = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [Any]] ?? [:]
        for (name, values) in expected {
            let entry = try #require(python["model.\(name)"], "\(name) missing in Python's view")
            #expect(entry[0] as? String == (dtype == .bfloat16 ? "bfloat16" : "float16"), "\(name)")
            #expect((entry[1] as? [Double])?.map(Float.init) == values, "\(name)")
        }
        // The weights load (as float32 masters) with exactly those values.
        let restored = try checkpoint.makeModel(device: .cpu)
        for ((name, values), (_, tensor)) in zip(expected, restored.stateTensors()) {
            #expect(tensor.dtype == .float32)
            #expect(try tensor.toArray() == values, "\(name)")
        }
        // A half checkpoint is for inference: resuming from it is refused.
        #expect(throws: CheckpointError.self) { try checkpoint.restore(optimizer, device: .cpu) }
        #expect(throws: CheckpointError.self) {
            try ModelCheckpoint.save(model: model, optimizer: nil, configuration: Self.configuration(steps: 0),
                                     to: scratch.fileURL("bad.safetensors"), weightType: .int8)
        }
    }
}
