import CortadoTraining
import Foundation

/// Times benchmark cases on several devices and precisions, interleaving them within each repeat
/// so that drift of the machine affects them alike.
public struct BenchmarkRunner {
    /// Most timed runs per case and device.
    public var repeats: Int
    /// Untimed runs first (kernel compilation, caches, allocator warm-up).
    public var warmup: Int
    /// Fewer repeats for slow cases: runs stop once this many seconds of timing have been spent.
    public var secondsPerCase: Double

    /// Creates a runner.
    public init(repeats: Int = 10, warmup: Int = 2, secondsPerCase: Double = 3) {
        self.repeats = max(repeats, 1)
        self.warmup = max(warmup, 0)
        self.secondsPerCase = secondsPerCase
    }

    /// Runs `benchmark` on every device in every precision (its layers computing in that type,
    /// `withComputeType(_:_:)`) and returns one result per device and precision.
    public func run(_ benchmark: BenchmarkCase, on devices: [Device], precisions: [Precision] = [.fp32]) throws -> [BenchmarkResult] {
        let variants = precisions.flatMap { precision in devices.map { (device: $0, precision: precision) } }
        let runs = try variants.map { variant in
            try withComputeType(variant.precision.computeType) { try benchmark.prepare(variant.device) }
        }
        func timed(_ index: Int) throws -> Double {
            let (device, precision) = variants[index]
            try device.synchronize()
            let start = DispatchTime.now().uptimeNanoseconds
            try withComputeType(precision.computeType) { try runs[index]() }
            try device.synchronize()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        // Peak memory from a run of its own on an emptied cache: interleaved variants free buffers
        // into one cache, and a bfloat16 request served by a freed float32 buffer would count twice
        // its size. After one untimed run, so buffers kept across runs (gradients) are not counted.
        func peak(_ index: Int) throws -> Int {
            let (device, precision) = variants[index]
            try device.synchronize()
            try device.emptyCache()
            try device.resetPeakMemory()
            let live = try device.memoryStatistics.liveBytes
            try withComputeType(precision.computeType) { try runs[index]() }
            try device.synchronize()
            return try device.memoryStatistics.peakLiveBytes - live
        }
        var peaks = Array(repeating: 0, count: variants.count)
        for index in variants.indices {
            _ = try timed(index)
            peaks[index] = try peak(index)
            for _ in 0..<warmup { _ = try timed(index) }  // refill the cache before timing
        }
        var times = Array(repeating: [Double](), count: variants.count)
        let started = Date()
        for round in 0..<repeats {
            for index in variants.indices { times[index].append(try timed(index)) }
            if round >= 2, Date().timeIntervalSince(started) > secondsPerCase * Double(precisions.count) { break }
        }
        var deviceTimes = Array(repeating: [Double](), count: variants.count)
        for (index, variant) in variants.enumerated() where variant.device.kind == .opencl {
            for _ in 0..<min(3, times[index].count) {
                let kernels = try variant.device.profileKernels {
                    try withComputeType(variant.precision.computeType) { try runs[index]() }
                }
                deviceTimes[index].append(kernels.reduce(0) { $0 + $1.seconds } * 1000)
            }
        }
        var results = try variants.indices.map { index -> BenchmarkResult in
            let (device, precision) = variants[index]
            let sorted = times[index].sorted()
            let median = Self.median(sorted)
            var result = BenchmarkResult(
                caseName: benchmark.name, group: benchmark.group, device: device.id,
                deviceName: try device.info.name, medianMs: median, minMs: sorted.first ?? 0, maxMs: sorted.last ?? 0,
                repeats: sorted.count, deviceMs: deviceTimes[index].isEmpty ? nil : Self.median(deviceTimes[index].sorted()))
            result.precision = precision.rawValue
            result.peakBytes = peaks[index]
            let seconds = median / 1000
            switch benchmark.work {
            case let .flops(flops): result.gflops = flops / seconds / 1e9
            case let .bytes(bytes): result.gbps = bytes / seconds / 1e9
            case let .elements(count): result.gbps = count * Double(precision.computeType.byteSize) / seconds / 1e9
            case let .samples(samples): result.samplesPerSec = Double(samples) / seconds
            case .none: break
            }
            return result
        }
        for index in results.indices {
            if let cpu = results.first(where: { $0.device == Device.cpu.id && $0.precision == results[index].precision }) {
                results[index].speedupOverCPU = cpu.medianMs / results[index].medianMs
            }
        }
        return results
    }

    private static func median(_ sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
