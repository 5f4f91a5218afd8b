import ArgumentParser
import CortadoMPI
import CortadoBenchmarks
import CortadoTraining
import Foundation

/// `cortado bench [suite]`: the operation and model suites, as a table, JSON lines and an SVG chart.
struct SuiteBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Time the operation suite and a model's layers and training step on each device.",
        discussion: """
            Operations: sgemm at square sizes and at the built-in models' shapes, conv2d forward and \
            backward at the cnn/lenet shapes, add/mul (GB/s), sum and softmax, the fused Adam update, \
            host↔device copies. Models (as `caffe time`): each layer's forward and backward, the \
            optimizer update, and whole training steps (samples/s).

            Devices are interleaved within each repeat; warm-up runs (kernel compilation) are excluded; \
            OpenCL device time comes from event profiling. Kernel compilation is measured separately by \
            `cortado bench startup`.

            Example: cortado bench --device cpu --device opencl --json --svg bench.svg

            Communication (--suite comm, under mpirun with 2 or more ranks): the data-parallel \
            gradient all-reduce (buckets read back from the --device, reduced on the communication \
            thread, written back) at each model's gradient size, against one plain MPI_Allreduce of \
            the same bytes, interleaved; rank 0 prints the slowest rank's medians.

            Example: mpirun -np 2 cortado bench --suite comm --device cpu --threads 1

            Compression (--suite compression --checkpoint C): the float32 checkpoint, its int8 copy \
            (per-channel) and structured-pruned copies (--sparsity, default 0.3 and 0.5; --norm l1, l2 \
            or taylor, repeatable, default l1; --fine-tune N epochs each), plus any --compare files, each evaluated on the checkpoint's test set \
            (--rounds interleaved rounds after a warm-up, medians, on the first --device): accuracy, \
            file size and evaluation speed side by side.

            Example: cortado bench --suite compression --checkpoint cnn.safetensors --svg compression.svg
            """)

    @Option(name: .customLong("device"), help: "Device to run on (repeatable; default: cpu and every OpenCL device).")
    var devices: [String] = []

    @Option(help: "ops, model, all (ops and model), comm (under mpirun), or compression (with --checkpoint).")
    var suite: Suite = .all

    @Option(name: .customLong("model"), help: "Model(s) for the model and comm suites (repeatable): \(BenchmarkModel.names.joined(separator: ", ")) (default: cnn; for comm all of them; minilm stands for bert-classifier).")
    var models: [BenchmarkModel] = []

    @Option(help: "Batch size of the model suite.")
    var batchSize = 64

    @Option(name: .customLong("size"), help: "Square sgemm sizes (repeatable).")
    var sizes: [Int] = [256, 512, 1024, 2048, 4096]

    @Option(help: "Only cases whose name contains this text.")
    var filter: String?

    @Option(help: "Timed repeats per case and device (fewer for cases slower than 3 s in total).")
    var repeats = 10

    @Option(help: "Untimed warm-up runs per case and device.")
    var warmup = 2

    @Flag(help: "Print one JSON object per case and device.")
    var json = false

    @Option(help: "Also write a chart of the medians to this SVG file.")
    var svg: String?

    @Option(help: "--suite compression: the float32 checkpoint to compress and compare.")
    var checkpoint: String?

    @Option(name: .customLong("sparsity"), help: "--suite compression: structured-pruning sparsities (repeatable; default 0.3 and 0.5).")
    var sparsities: [Double] = []

    @Option(name: .customLong("norm"), help: "--suite compression: how structured pruning ranks units, as `prune --norm` (repeatable: one pruned copy per sparsity and ranking; default l1).")
    var norms: [PruningNorm] = []

    @Option(help: "--suite compression: epochs of fine-tuning for each pruned copy (default 0).")
    var fineTune = 0

    @Option(name: .customLong("compare"), help: "--suite compression: further checkpoints to measure beside them (repeatable), e.g. a fine-tuned pruned one.")
    var comparisons: [String] = []

    @Option(help: "--suite compression: timed evaluation rounds (interleaved, after a warm-up).")
    var rounds = 3

    enum Suite: String, ExpressibleByArgument, CaseIterable { case ops, model, all, comm, compression }

    func validate() throws {
        guard repeats > 0, repeats <= 100_000, warmup >= 0, warmup <= 100_000, batchSize > 0, batchSize <= 65536,
              sizes.allSatisfy({ $0 > 0 && $0 <= 16384 }), rounds > 0, rounds <= 1000 else {
            throw ValidationError("--repeats (at most 100000), --batch-size (at most 65536) and --size (at most 16384) must be positive, --rounds at most 1000, --warmup from 0 to 100000")
        }
    }

    @Option(name: .customLong("precision"), help: "Precision(s) to run the cases in (repeatable; interleaved with the devices within each repeat): fp32, bf16, fp16 (default fp32).")
    var precisions: [Precision] = []

    @OptionGroup var cpu: ThreadsOption

    @OptionGroup var profiling: ProfileOption

    func run() throws {
        if suite == .comm { return try runCommunication() }
        if suite == .compression { return try runCompression() }
        if checkpoint != nil { throw ValidationError("--checkpoint belongs to --suite compression") }
        if !norms.isEmpty { throw ValidationError("--norm belongs to --suite compression") }
        try cpu.apply()
        // Device times come from OpenCL events: the queues are made with profiling for the bench.
        OperationProfiling.enableEventProfiling()
        let profiler = try profiling.start()
        let models = self.models.isEmpty ? [.builtin(.cnn)] : self.models
        let targets = try DeviceSelection.resolve(devices, fallback: ["cpu"] + Device.all.filter { $0.kind == .opencl }.map(\.id))
        defer { profiling.finish(profiler, devices: targets, process: "cortado bench suite") }
        var cases: [BenchmarkCase] = []
        if suite != .model { cases += OperationBenchmarks.all(gemmSizes: sizes) }
        if suite != .ops { cases += try models.flatMap { try $0.cases(batchSize: batchSize) } }
        if let filter { cases = cases.filter { $0.name.contains(filter) } }
        guard !cases.isEmpty else { throw ValidationError("no benchmark case matches --filter \(filter ?? "")") }

        let runner = BenchmarkRunner(repeats: repeats, warmup: warmup)
        var results: [BenchmarkResult] = []
        for benchmark in cases {
            let caseResults = try runner.run(benchmark, on: targets, precisions: precisions.isEmpty ? [.fp32] : precisions)
            results += caseResults
            if json {
                for result in caseResults { print(try Terminal.jsonLine(result)) }
            } else {
                print(BenchmarkTable.rows(caseResults))
            }
            fflush(nil)
        }
        if let svg {
            let chart = BenchmarkChart(results: results, devices: try targets.map { try $0.info }, machine: Machine.description)
            do {
                try chart.render().write(toFile: svg, atomically: true, encoding: .utf8)
            } catch {
                throw ValidationError("cannot write --svg \(svg): \(error.localizedDescription)")
            }
            Terminal.note("wrote \(svg)")
        }
    }
}

/// The machine's description for reports: CPU model, cores, memory, OS.
enum Machine {
    static var description: String {
        let cpu = Device.all.first { $0.kind == .cpu }
        let memory = formatBytes(Int(ProcessInfo.processInfo.physicalMemory))
        return "\(cpu?.name ?? "CPU"), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(memory), "
            + ProcessInfo.processInfo.operatingSystemVersionString
    }
}

/// Aligned text rows for results.
enum BenchmarkTable {
    static func rows(_ results: [BenchmarkResult]) -> String {
        results.map { r in
            let throughput: String
            if let gflops = r.gflops { throughput = String(format: "%.1f GFLOPS", gflops) }
            else if let gbps = r.gbps { throughput = String(format: "%.1f GB/s", gbps) }
            else if let samples = r.samplesPerSec { throughput = String(format: "%.0f samples/s", samples) }
            else { throughput = "" }
            let deviceTime = r.deviceMs.map { String(format: "device %.3f ms", $0) } ?? ""
            let ratio = r.speedupOverCPU.map { r.device == Device.cpu.id ? "" : String(format: "%.2f× cpu", $0) } ?? ""
            let name = r.precision == Precision.fp32.rawValue ? r.caseName : "\(r.caseName) [\(r.precision)]"
            let peak = r.peakBytes.map { "peak " + formatBytes($0) } ?? ""
            return [name.padding(toLength: 46, withPad: " ", startingAt: 0),
                    r.device.padding(toLength: 10, withPad: " ", startingAt: 0),
                    String(format: "%10.3f ms", r.medianMs),
                    String(format: "(%.3f–%.3f)", r.minMs, r.maxMs).padding(toLength: 22, withPad: " ", startingAt: 0),
                    deviceTime.padding(toLength: 20, withPad: " ", startingAt: 0),
                    throughput.padding(toLength: 20, withPad: " ", startingAt: 0),
                    peak.padding(toLength: 16, withPad: " ", startingAt: 0), ratio].joined(separator: " ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}

extension SuiteBench {
    /// `--suite comm`: the gradient all-reduce against plain MPI_Allreduce, on every rank of the job.
    func runCommunication() throws {
        let communicator = try MPICommunicator.launched()
        guard communicator.size > 1 else {
            throw ValidationError("--suite comm times MPI collectives: run it under mpirun with 2 or more ranks, e.g. mpirun -np 2 cortado bench --suite comm")
        }
        try cpu.apply(localRanks: communicator.localSize)
        let quiet = communicator.rank != 0
        let device = try DeviceSelection.resolve(devices.isEmpty ? ["cpu"] : [devices[0]], quiet: quiet)[0]
        let models = self.models.isEmpty
            ? BuiltinModel.allCases.filter { !$0.readsWordPieces }.map(BenchmarkModel.builtin) + [.minilm] : self.models
        let results = try CommBenchmarks.run(models: models, device: device, communicator: communicator, repeats: repeats, warmup: warmup)
        guard !quiet else { return }
        if json {
            for result in results { print(try Terminal.jsonLine(result)) }
            return
        }
        print("\(communicator.size) ranks; the slowest rank's median of \(repeats) interleaved rounds")
        print(Terminal.table(
            ["case", "device", "bytes", "buckets", "median ms", "min–max ms", "GB/s", "bus GB/s", "of plain"],
            results.map { r in
                [r.caseName, r.device, formatBytes(r.bytes), "\(r.buckets)", String(format: "%.3f", r.medianMs),
                 String(format: "%.3f–%.3f", r.minMs, r.maxMs), String(format: "%.2f", r.algorithmGBps),
                 String(format: "%.2f", r.busGBps), r.ofPlain.map { String(format: "%.0f %%", $0 * 100) } ?? ""]
            }))
    }
}
