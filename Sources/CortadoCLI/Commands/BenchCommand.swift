import ArgumentParser
import Cortado
import Foundation

/// `cortado bench`: timings of Cortado's operations and models on several devices in one run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark operations and models on one or more devices (default: cpu and every OpenCL device).",
        subcommands: [SuiteBench.self, GemmBench.self, StartupBench.self],
        defaultSubcommand: SuiteBench.self)
}

/// `cortado bench gemm`: square single-precision matrix products.
struct GemmBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Time square SGEMM (C = A·B) on each device.",
        discussion: """
            Devices are interleaved within each repeat, so drift of the machine hits them alike. \
            Warm-up runs (kernel compilation, caches) are excluded; the median is reported.

            With --int8 each device also runs the int8 product of quantised inference beside SGEMM, \
            in the same repeats: `quantizedLinear` of A with B quantised once (--scheme), A's rows \
            quantised on every run; its column counts integer operations (2n³) per second.

            Example: cortado bench gemm --size 1024 --size 2048 --device cpu --device opencl
              cortado bench gemm --size 1024 --int8 --device cpu
            """)

    @Option(name: .customLong("size"), help: "Matrix size n (repeatable).")
    var sizes: [Int] = [1024]

    @Option(name: .customLong("device"), help: "Device to run on (repeatable; default: cpu and every OpenCL device).")
    var devices: [String] = []

    @Option(help: "Timed repeats per size and device.")
    var repeats = 10

    @Option(help: "Untimed warm-up runs per size and device.")
    var warmup = 2

    @Flag(help: "Print one JSON object per line (op, device, size, median_ms, min_ms, max_ms, gflops).")
    var json = false

    @Flag(help: "Also time the int8 product (int32 sums, float32 result) beside SGEMM.")
    var int8 = false

    @Option(help: "With --int8: the weight's scheme, per-channel or q8_0.")
    var scheme: QuantizationScheme = .perChannel

    func validate() throws {
        // n × n float matrices: 16384 needs 1 GiB each.
        guard sizes.allSatisfy({ $0 > 0 && $0 <= 16384 }) else { throw ValidationError("--size must be between 1 and 16384") }
        guard repeats > 0, repeats <= 100_000, warmup >= 0, warmup <= 100_000 else {
            throw ValidationError("--repeats must be between 1 and 100000 and --warmup between 0 and 100000")
        }
    }

    struct Result: Encodable {
        let op: String
        let device: String
        let deviceName: String
        let size: Int
        let medianMs: Double
        let minMs: Double
        let maxMs: Double
        let gflops: Double
    }

    private func rounded(_ value: Double, _ digits: Int) -> Double {
        let scale = pow(10, Double(digits))
        return (value * scale).rounded() / scale
    }

    @OptionGroup var cpu: ThreadsOption

    @OptionGroup var profiling: ProfileOption

    func run() throws {
        try cpu.apply()
        let profiler = try profiling.start()
        let targets = try DeviceSelection.resolve(devices, fallback: ["cpu"] + Device.all.filter { $0.kind == .opencl }.map(\.id))
        defer { profiling.finish(profiler, devices: targets, process: "cortado bench gemm") }
        var rows: [[String]] = []
        for n in sizes {
            let operands = try targets.map { device -> (Tensor, Tensor, QuantizedMatrix?) in
                let generator = RandomGenerator(seed: 42)
                let (a, b) = (try Tensor.uniform([n, n], device: device, generator: generator),
                              try Tensor.uniform([n, n], device: device, generator: generator))
                return (a, b, int8 ? try QuantizedMatrix(quantizing: b, scheme: scheme) : nil)
            }
            // (device index, int8) pairs, interleaved within every repeat.
            let cases = targets.indices.flatMap { index in int8 ? [(index, false), (index, true)] : [(index, false)] }
            func once(_ index: Int, _ quantized: Bool) throws -> Double {
                let (a, b, q) = operands[index]
                let start = DispatchTime.now().uptimeNanoseconds
                try profiled(quantized ? "int8 gemm" : "gemm", category: "bench", arguments: ["n": "\(n)", "device": targets[index].id]) {
                    try withNoGrad {
                        if quantized, let q { _ = try a.quantizedLinear(q) } else { _ = try a.matmul(b) }
                    }
                    try targets[index].synchronize()
                }
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            }
            for (index, quantized) in cases {
                for _ in 0..<warmup { _ = try once(index, quantized) }
            }
            var times = Array(repeating: [Double](), count: cases.count)
            for _ in 0..<repeats {
                for (position, (index, quantized)) in cases.enumerated() { times[position].append(try once(index, quantized)) }
            }
            for (position, (index, quantized)) in cases.enumerated() {
                let device = targets[index]
                let sorted = times[position].sorted()
                let median = sorted.count % 2 == 1
                    ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
                let result = Result(
                    op: quantized ? "int8 gemm (\(scheme))" : "gemm", device: device.id, deviceName: try device.info.name, size: n,
                    medianMs: rounded(median, 3), minMs: rounded(sorted.first!, 3), maxMs: rounded(sorted.last!, 3),
                    gflops: rounded(2 * pow(Double(n), 3) / (median * 1e6), 1))
                if json {
                    print(try Terminal.jsonLine(result))
                } else {
                    rows.append([
                        device.id, result.deviceName, result.op, "\(n)", String(format: "%.3f", median),
                        String(format: "%.3f–%.3f", result.minMs, result.maxMs), String(format: "%.1f", result.gflops),
                    ])
                }
            }
        }
        if !json {
            print(Terminal.table(["device", "name", "op", "n", "median ms", "min–max ms", "GFLOPS (int8: GOPS)"], rows))
        }
    }
}
