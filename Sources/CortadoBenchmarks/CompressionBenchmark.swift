import CortadoTraining
import Foundation

/// The compression suite (`cortado bench --suite compression`): a float32 checkpoint beside its
/// int8 copy and structured-pruned copies, each evaluated on the same test set, the evaluations
/// interleaved over several rounds: accuracy, file size and evaluation speed side by side.
public enum CompressionBenchmark {
    /// One checkpoint measured.
    public struct Variant: Sendable {
        /// Its name in the table, e.g. `fp32`, `int8 per-channel`, `pruned 30%`.
        public var name: String
        /// Its file.
        public var url: URL

        /// A variant named `name` read from `url`.
        public init(name: String, url: URL) {
            self.name = name
            self.url = url
        }
    }

    /// What was measured of one variant.
    public struct Result: Codable, Sendable, Equatable {
        /// The variant's name.
        public var variant: String
        /// Its file.
        public var file: String
        /// Its size in bytes, and that over the first variant's.
        public var bytes: Int, sizeRatio: Double
        /// The bytes of the model's tensors alone (`model.*`: without optimizer state).
        public var weightBytes: Int
        /// The model's parameters (weights in float32 or int8 alike).
        public var parameters: Int
        /// Test accuracy (`nil` for regression) and loss.
        public var accuracy: Double?, loss: Double
        /// The median time of one evaluation of the whole test set, in milliseconds.
        public var medianMs: Double
        /// Test samples per second at the median.
        public var samplesPerSecond: Double
        /// The first variant's median time over this one's (above 1: faster).
        public var speedup: Double

        private enum CodingKeys: String, CodingKey {
            case variant, file, bytes, parameters, accuracy, loss, speedup
            case sizeRatio = "size_ratio", weightBytes = "weight_bytes", medianMs = "median_ms", samplesPerSecond = "samples_per_sec"
        }
    }

    /// Writes the compressed copies of `checkpoint` into `directory`: the int8 one (per-channel)
    /// and one structured-pruned copy per sparsity and ranking in `norms` (fine-tuned for
    /// `fineTuneEpochs` on `device` when above 0). The float32 checkpoint itself comes first.
    /// Pruned variants are named by sparsity, and by ranking unless it is the default `l1` alone.
    /// - Throws: what quantising or pruning throws (an int8 input, a linear model for pruning).
    public static func variants(
        of checkpoint: ModelCheckpoint, in directory: URL, sparsities: [Double], norms: [PruningNorm] = [.l1],
        fineTuneEpochs: Int = 0, device: Device = .cpu
    ) throws -> [Variant] {
        var variants = [Variant(name: "fp32", url: checkpoint.file.url)]
        let int8 = directory.appendingPathComponent("int8.safetensors")
        try checkpoint.writeQuantized(to: int8, scheme: .perChannel)
        variants.append(Variant(name: "int8 per-channel", url: int8))
        let namesNorm = norms != [.l1]
        for sparsity in sparsities {
            for norm in norms {
                let percent = Int((sparsity * 100).rounded())
                let url = directory.appendingPathComponent("pruned-\(percent)-\(norm.rawValue).safetensors")
                let options = PruningOptions(sparsity: sparsity, structured: true, norm: norm, fineTuneEpochs: fineTuneEpochs)
                try checkpoint.writePruned(to: url, options: options, device: device)
                let name = "pruned \(percent)%" + (namesNorm ? " \(norm.rawValue)" : "") + (fineTuneEpochs > 0 ? " +\(fineTuneEpochs) ep" : "")
                variants.append(Variant(name: name, url: url))
            }
        }
        return variants
    }

    /// Evaluates every variant on `test` on `device`, `rounds` times each with the variants
    /// interleaved within a round (after one untimed warm-up evaluation each), and reports the
    /// medians; ratios are to the first variant.
    public static func measure(
        _ variants: [Variant], test: Dataset, device: Device, rounds: Int = 3, batchSize: Int = 500
    ) throws -> [Result] {
        let loaded = try variants.map { variant -> (Trainer, Int, Int, Int) in
            let saved = try ModelCheckpoint(contentsOf: variant.url)
            let model = try saved.makeTrainedModel(device: device)
            let optimizer = try SGD(model.trainableParameters(), learningRate: 1)  // unused: evaluation only
            let trainer = Trainer(model: model, optimizer: optimizer, schedule: LearningRateSchedule(base: 1),
                                  task: saved.configuration.task, device: device, readsTokens: saved.configuration.model.readsTokens,
                                  paddingId: try saved.configuration.bert?.tokenizer().paddingId)
            let bytes = (try FileManager.default.attributesOfItem(atPath: variant.url.path)[.size] as? Int) ?? 0
            let weights = saved.file.tensors.filter { $0.name.hasPrefix("model.") }.reduce(0) { $0 + $1.dataOffsets.count }
            return (trainer, bytes, model.parameterCount, weights)
        }
        var evaluations: [Evaluation?] = Array(repeating: nil, count: variants.count)
        var times: [[Double]] = Array(repeating: [], count: variants.count)
        for round in 0...max(rounds, 1) {
            for (index, (trainer, _, _, _)) in loaded.enumerated() {
                try device.synchronize()
                let start = DispatchTime.now().uptimeNanoseconds
                let evaluation = try trainer.evaluate(test, batchSize: batchSize)
                try device.synchronize()
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                if round > 0 { times[index].append(elapsed) }  // round 0 warms up
                evaluations[index] = evaluation
            }
        }
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? 0 : sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        let medians = times.map(median)
        return variants.indices.map { index in
            let evaluation = evaluations[index]
            return Result(
                variant: variants[index].name, file: variants[index].url.path, bytes: loaded[index].1,
                sizeRatio: Double(loaded[index].1) / Double(max(loaded[0].1, 1)), weightBytes: loaded[index].3, parameters: loaded[index].2,
                accuracy: evaluation?.accuracy, loss: evaluation?.loss ?? .nan, medianMs: medians[index],
                samplesPerSecond: Double(test.count) / max(medians[index] / 1000, 1e-12),
                speedup: medians[0] / max(medians[index], 1e-12))
        }
    }
}
