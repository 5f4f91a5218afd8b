import CortadoTraining

/// One thing to time on every device: how to prepare it and how much work one run does.
public struct BenchmarkCase: Sendable {
    /// What one run accomplishes, for throughput figures.
    public enum Work: Sendable, Equatable {
        /// Floating-point operations (reported as GFLOPS).
        case flops(Double)
        /// Bytes moved (reported as GB/s).
        case bytes(Double)
        /// Elements read and written, each the size of the compute type's element (reported as GB/s):
        /// a case that keeps its tensors in the compute type moves half the bytes in bf16 and fp16.
        case elements(Double)
        /// Training samples processed (reported as samples/s).
        case samples(Int)
        /// Nothing to report beyond the time.
        case none
    }

    /// The case's name, e.g. `sgemm 1024` or `cnn[0] Conv2D backward`.
    public var name: String
    /// The family it belongs to (`sgemm`, `conv2d`, `elementwise`, `model`, …).
    public var group: String
    /// The work of one run.
    public var work: Work
    /// Prepares the case on a device (allocating and filling its inputs) and returns one run.
    public var prepare: @Sendable (Device) throws -> () throws -> Void

    /// Creates a case.
    public init(
        _ name: String, group: String, work: Work, prepare: @escaping @Sendable (Device) throws -> () throws -> Void
    ) {
        self.name = name
        self.group = group
        self.work = work
        self.prepare = prepare
    }
}

/// The timing of one case on one device.
public struct BenchmarkResult: Sendable, Codable, Equatable {
    /// The case's name.
    public var caseName: String
    /// Its family.
    public var group: String
    /// The device's id.
    public var device: String
    /// The device's name.
    public var deviceName: String
    /// Median wall time of a run, including waiting for the device, in milliseconds.
    public var medianMs: Double
    /// Fastest run.
    public var minMs: Double
    /// Slowest run.
    public var maxMs: Double
    /// Runs timed.
    public var repeats: Int
    /// Median device-side time of the run's OpenCL kernels (event profiling), in milliseconds.
    public var deviceMs: Double?
    /// Throughput in GFLOPS, for compute cases.
    public var gflops: Double?
    /// Throughput in GB/s, for memory cases.
    public var gbps: Double?
    /// Training samples per second, for whole steps.
    public var samplesPerSec: Double?
    /// How many times faster than the `cpu` device (its median over this one's), at the same precision.
    public var speedupOverCPU: Double?
    /// The precision the case ran in (`fp32`, `bf16`, `fp16`).
    public var precision: String = Precision.fp32.rawValue
    /// The most device memory held at once during a timed run, beyond what was live before it.
    public var peakBytes: Int?

    /// JSON keys (`case`, `median_ms`, `gflops`, …).
    enum CodingKeys: String, CodingKey {
        case caseName = "case", group, device, deviceName = "device_name", medianMs = "median_ms", minMs = "min_ms"
        case maxMs = "max_ms", repeats, deviceMs = "device_ms", gflops, gbps, samplesPerSec = "samples_per_sec"
        case speedupOverCPU = "speedup_over_cpu", precision, peakBytes = "peak_bytes"
    }
}
