import CortadoTraining
import Foundation

/// `cortado bench --suite comm` under `mpirun`: the data-parallel gradient all-reduce at a model's
/// gradient size against one plain all-reduce of the same bytes, in the same run, interleaved.
///
/// The gradient case is what a training step does after its backward pass: the gradients (set to
/// fixed values on the device) are packed into their buckets in reverse parameter order, each
/// bucket is read back once (not on the cpu device), all-reduced on the communication thread and
/// written back, and every parameter gets its averaged gradient. The plain case is one `MPI_Allreduce` of a host buffer of
/// the same total size. Each round starts with a small all-reduce so that the ranks start
/// together, and reports the slowest rank's time.
public enum CommBenchmarks {
    /// One timed case.
    public struct Result: Sendable, Codable, Equatable {
        /// `<model> gradient buckets` or `<model> MPI_Allreduce`.
        public var caseName: String
        /// The model whose gradient size is reduced.
        public var model: String
        /// Bytes reduced per call.
        public var bytes: Int
        /// Gradient buckets (1 for the plain all-reduce).
        public var buckets: Int
        /// Ranks taking part.
        public var ranks: Int
        /// The device holding the gradients (`host` for the plain all-reduce).
        public var device: String
        /// Median time of the slowest rank, in milliseconds.
        public var medianMs: Double
        /// Fastest round.
        public var minMs: Double
        /// Slowest round.
        public var maxMs: Double
        /// Bytes per second of the median (`bytes / time`), in GB/s.
        public var algorithmGBps: Double
        /// Bus bandwidth of the median, `2(N−1)/N · bytes / time` (what a ring all-reduce moves per rank), in GB/s.
        public var busGBps: Double
        /// For the gradient case: its bandwidth as a fraction of the plain all-reduce's.
        public var ofPlain: Double?
    }

    /// The trainable parameter element counts of `model` as the model suite builds it (28×28 images
    /// with 10 classes, 64-token texts over 10,000 words with one output, MiniLM with a 1-logit head).
    public static func parameterCounts(_ model: BenchmarkModel) throws -> [Int] {
        switch model {
        case let .builtin(kind):
            let text = kind.readsTokens
            let network = try kind.make(sampleShape: text ? [64] : [1, 28, 28], outputs: text ? 1 : 10, vocabulary: 10_000,
                                        device: .cpu, generator: RandomGenerator(seed: 4))
            return network.trainableParameters().map { $0.parameter.value.count }
        case .minilm:
            let architecture = TransformerBenchmarks.miniLMArchitecture
            let encoder = try BertModel(architecture, device: .cpu, generator: RandomGenerator(seed: 9))
            let head = try Linear(architecture.hiddenSize, 1, device: .cpu, generator: RandomGenerator(seed: 10))
            return (encoder.trainableParameters() + head.trainableParameters()).map { $0.parameter.value.count }
        }
    }

    /// Times both cases for each model on every rank of `communicator`; every rank returns the same results.
    public static func run(
        models: [BenchmarkModel], device: Device, communicator: any Communicator, repeats: Int, warmup: Int
    ) throws -> [Result] {
        var results: [Result] = []
        for model in models {
            let counts = try parameterCounts(model)
            let parameters = try counts.map { try Parameter(Tensor.full([$0], value: 0.5, device: device)) }
            let plan = GradientBuckets(counts: counts)
            let reducer = try GradientReducer(
                parameters: parameters, device: device, communicator: communicator, plan: plan, timeout: 600,
                overlaps: GradientReducer.overlaps(device: device, threads: Parallel.workers))
            let gradients = try counts.map { try Tensor.full([$0], value: Float(communicator.rank + 1), device: device) }
            var plain = [Float](repeating: 1, count: counts.reduce(0, +))

            func gradientStep() throws {
                try reducer.beginStep(localCount: 1, globalCount: communicator.size, loss: nil, stop: false)
                for parameter in parameters.reversed() { try reducer.gradientReady(parameter.value) }
                _ = try reducer.finishStep(stepStart: DispatchTime.now().uptimeNanoseconds)
                try device.synchronize()
            }
            func plainStep() throws {
                try plain.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
            }
            /// Fresh gradients, each held by its parameter alone, as a backward pass leaves them.
            func freshGradients() throws {
                for (parameter, gradient) in zip(parameters, gradients) { parameter.value.grad = try gradient.copied() }
                try device.synchronize()
            }
            func timed(_ body: () throws -> Void) throws -> Double {
                _ = try communicator.allReduceSum([0])  // start together
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                return try communicator.allReduceMax([milliseconds])[0]
            }
            for _ in 0..<warmup {
                try freshGradients()
                _ = try timed(gradientStep)
                _ = try timed(plainStep)
            }
            var gradientTimes: [Double] = [], plainTimes: [Double] = []
            for _ in 0..<repeats {
                try freshGradients()
                gradientTimes.append(try timed(gradientStep))
                plainTimes.append(try timed(plainStep))
            }
            let bytes = counts.reduce(0, +) * 4, ranks = communicator.size
            func result(_ name: String, _ times: [Double], buckets: Int, device: String) -> Result {
                let sorted = times.sorted()
                let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
                let algorithm = Double(bytes) / (median / 1000) / 1e9
                return Result(
                    caseName: "\(model.name) \(name)", model: model.name, bytes: bytes, buckets: buckets, ranks: ranks, device: device,
                    medianMs: median, minMs: sorted.first ?? 0, maxMs: sorted.last ?? 0, algorithmGBps: algorithm,
                    busGBps: algorithm * 2 * Double(ranks - 1) / Double(ranks), ofPlain: nil)
            }
            var gradient = result("gradient buckets", gradientTimes, buckets: plan.buckets.count, device: device.id)
            let reference = result("MPI_Allreduce", plainTimes, buckets: 1, device: "host")
            gradient.ofPlain = reference.medianMs / gradient.medianMs
            results += [gradient, reference]
        }
        return results
    }
}
