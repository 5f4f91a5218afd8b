import Foundation

/// Times benchmark cases on several devices, interleaving the devices within each repeat so that
/// drift of the machine affects them alike.
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

    /// Runs `benchmark` on every device and returns one result per device.
    public func run(_ benchmark: BenchmarkCase, on devices: [Device]) throws -> [BenchmarkResult] {
        let runs = try devices.map { try benchmark.prepare($0) }
        func timed(_ index: Int) throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try runs[index]()
            try devices[index].synchronize()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        for index in devices.indices {
            for _ in 0..<warmup { _ = try timed(index) }
        }
        var times = Array(repeating: [Double](), count: devices.count)
        let started = Date()
        for round in 0..<repeats {
            for index in devices.indices { times[index].append(try timed(index)) }
            if round >= 2, Date().timeIntervalSince(started) > secondsPerCase { break }
        }
        var deviceTimes = Array(repeating: [Double](), count: devices.count)
        for (index, device) in devices.enumerated() where device.kind == .opencl {
            for _ in 0..<min(3, times[index].count) {
                let kernels = try device.profileKernels { try runs[index]() }
                deviceTimes[index].append(kernels.reduce(0) { $0 + $1.seconds } * 1000)
            }
        }
        var results = try devices.indices.map { index -> BenchmarkResult in
            let sorted = times[index].sorted()
            let median = Self.median(sorted)
            var result = BenchmarkResult(
                caseName: benchmark.name, group: benchmark.group, device: devices[index].id,
                deviceName: try devices[index].info.name, medianMs: median, minMs: sorted.first ?? 0, maxMs: sorted.last ?? 0,
                repeats: sorted.count, deviceMs: deviceTimes[index].isEmpty ? nil : Self.median(deviceTimes[index].sorted()))
            let seconds = median / 1000
            switch benchmark.work {
            case let .flops(flops): result.gflops = flops / seconds / 1e9
            case let .bytes(bytes): result.gbps = bytes / seconds / 1e9
            case let .samples(samples): result.samplesPerSec = Double(samples) / seconds
            case .none: break
            }
            return result
        }
        if let cpu = results.first(where: { $0.device == Device.cpu.id }) {
            for index in results.indices { results[index].speedupOverCPU = cpu.medianMs / results[index].medianMs }
        }
        return results
    }

    private static func median(_ sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
