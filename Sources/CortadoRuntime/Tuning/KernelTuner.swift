import COpenBLAS
import Foundation

/// What a tuning run found.
public struct TuningReport: Sendable {
    /// The device tuned.
    public var device: DeviceInfo
    /// The built-in parameters and their score (geometric mean of GEMM GFLOPS over the workloads).
    public var defaults: KernelParameters
    /// The built-in parameters' score.
    public var defaultScore: Double
    /// The best parameters found.
    public var best: KernelParameters
    /// Their score.
    public var bestScore: Double
    /// Candidates timed.
    public var tried: Int
    /// Candidates rejected: they could not be built or gave wrong results.
    public var rejected: Int
}

/// Searches the OpenCL kernels' launch parameters on one device: GEMM tiles, work-group shape and
/// vector width (GEMM also carries the convolutions), then the elementwise work-group size. Every
/// candidate is built, checked against `cblas_sgemm` on odd transposed and batched shapes, and
/// timed; wrong or unbuildable candidates are skipped.
public struct KernelTuner {
    /// The device to tune.
    public let device: Device
    /// Fewer candidates and smaller workloads.
    public let quick: Bool

    /// Creates a tuner for an OpenCL device.
    public init(device: Device, quick: Bool = false) throws {
        guard device.kind == .opencl else {
            throw CortadoError.invalidArgument("tuning applies to OpenCL devices, not \(device.id)")
        }
        self.device = device
        self.quick = quick
    }

    /// Runs the search; `progress(done, total, what)` is called before each candidate.
    public func run(progress: (Int, Int, String) -> Void = { _, _, _ in }) throws -> TuningReport {
        let record = try DeviceRegistry.shared.record(for: device)
        let info = record.info
        let defaults = KernelParameters.defaults(for: KernelProfile(for: info.type))
        var instance = 1_000
        var tried = 0, rejected = 0

        func score(_ parameters: KernelParameters, _ what: String, total: Int) -> Double? {
            progress(tried + rejected, total, what)
            instance += 1
            do {
                let backend = try OpenCLBackend(
                    record: record, device: Device(kind: .opencl, index: device.index, profile: nil, instance: instance),
                    parameters: parameters)
                guard try Self.verify(backend) else {
                    rejected += 1
                    return nil
                }
                let value = try Self.measure(backend, quick: quick)
                tried += 1
                return value
            } catch {
                rejected += 1
                return nil
            }
        }

        let shapes = gemmCandidates(defaults.gemm, info: info)
        let total = shapes.count + 2 * 5 + 4
        guard let defaultScore = score(defaults, "defaults", total: total) else {
            throw CortadoError.invalidArgument("the built-in parameters fail verification on \(info.name)")
        }
        var best = (parameters: defaults, score: defaultScore)
        func consider(_ candidate: KernelParameters, _ what: String) {
            // A candidate must win by 2 %: smaller differences are within the machine's noise.
            guard candidate != best.parameters, let value = score(candidate, what, total: total), value > best.score * 1.02 else { return }
            best = (candidate, value)
        }
        // Stage 1: tile shapes (and work-group shapes for local-memory tiling).
        for gemm in shapes {
            var candidate = defaults
            candidate.gemm = gemm
            consider(candidate, "GEMM \(gemm.algorithm.rawValue) \(gemm.tileM)×\(gemm.tileN)")
        }
        // Stage 2: vector width and tile walk around the best shape.
        if best.parameters.gemm.algorithm == .registerBlocked {
            for width in [8, 16] where best.parameters.gemm.tileN % width == 0 {
                var candidate = best.parameters
                candidate.gemm.vectorWidth = width
                consider(candidate, "vector width \(width)")
            }
            for group in [1, 4, 8, 16, 32] {
                var candidate = best.parameters
                candidate.gemm.groupM = group
                consider(candidate, "tile walk group \(group)")
            }
        }
        // Stage 3: work-group size of elementwise kernels.
        for group in [32, 64, 128, 256] where group <= (info.maxWorkGroupSize ?? 256) {
            var candidate = best.parameters
            candidate.elementwiseWorkGroup = group
            consider(candidate, "elementwise work-group \(group)")
        }
        // Confirm: time the defaults and the winner alternately; keep the winner only if its median
        // still wins (a single run can win by noise on a shared machine).
        var final = (parameters: defaults, score: defaultScore, defaultScore: defaultScore)
        if best.parameters != defaults {
            var defaultScores: [Double] = [], bestScores: [Double] = []
            for round in 0..<3 {
                progress(total, total, "confirming (\(round + 1)/3)")
                if let value = score(defaults, "confirming", total: total) { defaultScores.append(value) }
                if let value = score(best.parameters, "confirming", total: total) { bestScores.append(value) }
            }
            let defaultMedian = defaultScores.sorted()[defaultScores.count / 2]
            let bestMedian = bestScores.sorted()[bestScores.count / 2]
            final = bestMedian > defaultMedian * 1.02
                ? (best.parameters, bestMedian, defaultMedian) : (defaults, defaultMedian, defaultMedian)
        }
        progress(total, total, "done")
        return TuningReport(device: info, defaults: defaults, defaultScore: final.defaultScore, best: final.parameters,
                            bestScore: final.score, tried: tried, rejected: rejected)
    }

    /// GEMM tile candidates for the algorithm of `base`.
    private func gemmCandidates(_ base: KernelParameters.Gemm, info: DeviceInfo) -> [KernelParameters.Gemm] {
        switch base.algorithm {
        case .registerBlocked:
            let tilesM = quick ? [6, 8, 12] : [4, 6, 8, 12, 14, 16]
            let tilesN = quick ? [32, 64] : [16, 32, 48, 64]
            return tilesM.flatMap { m in
                tilesN.compactMap { n -> KernelParameters.Gemm? in
                    // Keep the accumulators within 28 vector registers (AVX-512 has 32).
                    guard n % base.vectorWidth == 0, m * n / base.vectorWidth <= 28 else { return nil }
                    var gemm = base
                    gemm.tileM = m
                    gemm.tileN = n
                    return gemm
                }
            }
        case .localTiled:
            let maxGroup = info.maxWorkGroupSize ?? 256, localBytes = info.localMemoryBytes ?? 32_768
            let tiles = quick ? [(64, 64)] : [(32, 32), (64, 64), (128, 64), (64, 128), (128, 128)]
            let depths = quick ? [16] : [8, 16]
            let threads = [(16, 16), (8, 8), (16, 8), (8, 16)]
            return tiles.flatMap { tm, tn in
                depths.flatMap { tk in
                    threads.compactMap { thm, thn -> KernelParameters.Gemm? in
                        let gemm = KernelParameters.Gemm(algorithm: .localTiled, tileM: tm, tileN: tn, tileK: tk, threadsM: thm, threadsN: thn)
                        guard thm * thn <= maxGroup, (tm / thm) * (tn / thn) <= 64, 4 * tk * (tm + tn) <= localBytes,
                              (try? gemm.validate()) != nil
                        else { return nil }
                        return gemm
                    }
                }
            }
        }
    }

    /// Whether the backend's GEMM matches `cblas_sgemm` on odd, transposed and batched shapes.
    package static func verify(_ backend: OpenCLBackend) throws -> Bool {
        let cases: [(m: Int, n: Int, k: Int, batch: Int, transA: Bool, transB: Bool)] = [
            (67, 45, 131, 2, false, true), (13, 129, 7, 3, true, false), (1, 33, 257, 1, false, false), (96, 64, 64, 1, true, true),
        ]
        var seed: UInt64 = 17
        func values(_ count: Int) -> [Float] {
            (0..<count).map { _ in
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(seed >> 40) / Float(1 << 24) - 0.5
            }
        }
        for c in cases {
            let a = values(c.batch * c.m * c.k), b = values(c.batch * c.k * c.n)
            let aBuffer = try backend.allocator.allocate(count: a.count, dtype: .float32)
            let bBuffer = try backend.allocator.allocate(count: b.count, dtype: .float32)
            let cBuffer = try backend.allocator.allocate(count: c.batch * c.m * c.n, dtype: .float32)
            try a.withUnsafeBytes { try backend.write($0, to: aBuffer, atByte: 0) }
            try b.withUnsafeBytes { try backend.write($0, to: bBuffer, atByte: 0) }
            // Stored transposed when `trans`: the operand is read through swapped strides.
            let aOperand = c.transA
                ? MatrixOperand(buffer: aBuffer, offset: 0, rowStride: 1, columnStride: c.m, batchStride: c.m * c.k)
                : MatrixOperand(buffer: aBuffer, offset: 0, rowStride: c.k, columnStride: 1, batchStride: c.m * c.k)
            let bOperand = c.transB
                ? MatrixOperand(buffer: bBuffer, offset: 0, rowStride: 1, columnStride: c.k, batchStride: c.k * c.n)
                : MatrixOperand(buffer: bBuffer, offset: 0, rowStride: c.n, columnStride: 1, batchStride: c.k * c.n)
            try backend.gemm(GemmDescriptor(batch: c.batch, m: c.m, n: c.n, k: c.k), aOperand, bOperand,
                             MatrixOperand(buffer: cBuffer, offset: 0, rowStride: c.n, columnStride: 1, batchStride: c.m * c.n))
            var result = [Float](repeating: 0, count: c.batch * c.m * c.n)
            try result.withUnsafeMutableBytes { try backend.read(cBuffer, atByte: 0, into: $0) }
            var expected = [Float](repeating: 0, count: result.count)
            for s in 0..<c.batch {
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        expected.withUnsafeMutableBufferPointer { cp in
                            cblas_sgemm(CblasRowMajor, c.transA ? CblasTrans : CblasNoTrans, c.transB ? CblasTrans : CblasNoTrans,
                                        Int32(c.m), Int32(c.n), Int32(c.k), 1, ap.baseAddress! + s * c.m * c.k,
                                        Int32(c.transA ? c.m : c.k), bp.baseAddress! + s * c.k * c.n, Int32(c.transB ? c.k : c.n),
                                        0, cp.baseAddress! + s * c.m * c.n, Int32(c.n))
                        }
                    }
                }
            }
            let scale = max(expected.map { abs($0) }.max() ?? 1, 1e-6)
            if zip(result, expected).contains(where: { !(abs($0 - $1) <= 1e-4 * scale) }) { return false }
        }
        return true
    }

    /// The geometric mean of throughputs (medians of a few runs after a warm-up): GFLOPS of square
    /// and model-shaped GEMMs including the cnn's batched convolution GEMM, and billions of
    /// elements per second of a contiguous and a broadcasting add (which the elementwise work-group
    /// size affects). Only ratios between candidates matter.
    static func measure(_ backend: OpenCLBackend, quick: Bool) throws -> Double {
        var logSum = 0.0, terms = 0
        func median(_ runs: Int, _ body: () throws -> Void) throws -> Double {
            try body()
            try backend.synchronize()
            let times = try (0..<runs).map { _ -> Double in
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                try backend.synchronize()
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }.sorted()
            return times[times.count / 2]
        }
        let elements = quick ? 1 << 20 : 1 << 22
        let x = try backend.allocator.allocate(count: elements, dtype: .float32), y = try backend.allocator.allocate(count: elements, dtype: .float32)
        let out = try backend.allocator.allocate(count: elements, dtype: .float32)
        try backend.fill(x, offset: 0, count: elements, value: 1)
        try backend.fill(y, offset: 0, count: elements, value: 2)
        let rows = elements / 1024
        for (a, b) in [
            (StridedView(contiguous: x, shape: [rows, 1024]), StridedView(contiguous: y, shape: [rows, 1024])),
            (StridedView(contiguous: x, shape: [rows, 1024]), StridedView(buffer: y, shape: [rows, 1024], strides: [0, 1])),
        ] {
            let seconds = try median(quick ? 3 : 5) {
                try backend.binary(.add, a, b, into: StridedView(contiguous: out, shape: [rows, 1024]))
            }
            logSum += Foundation.log(Double(elements) / seconds / 1e9)
            terms += 1
        }
        let shapes: [(m: Int, n: Int, k: Int, batch: Int)] = quick
            ? [(512, 512, 512, 1), (64, 64, 5408, 1), (32, 676, 9, 64)]
            : [(1024, 1024, 1024, 1), (64, 64, 5408, 1), (50, 4096, 500, 1), (64, 256, 784, 1), (32, 676, 9, 64)]
        for s in shapes {
            let a = try backend.allocator.allocate(count: s.m * s.k, dtype: .float32)
            let b = try backend.allocator.allocate(count: s.batch * s.k * s.n, dtype: .float32)
            let c = try backend.allocator.allocate(count: s.batch * s.m * s.n, dtype: .float32)
            try backend.fill(a, offset: 0, count: s.m * s.k, value: 0.5)
            try backend.fill(b, offset: 0, count: s.batch * s.k * s.n, value: 0.25)
            func once() throws -> Double {
                let start = DispatchTime.now().uptimeNanoseconds
                try backend.gemm(
                    GemmDescriptor(batch: s.batch, m: s.m, n: s.n, k: s.k),
                    MatrixOperand(buffer: a, offset: 0, rowStride: s.k, columnStride: 1, batchStride: 0),
                    MatrixOperand(buffer: b, offset: 0, rowStride: s.n, columnStride: 1, batchStride: s.k * s.n),
                    MatrixOperand(buffer: c, offset: 0, rowStride: s.n, columnStride: 1, batchStride: s.m * s.n))
                try backend.synchronize()
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
            _ = try once()
            let times = try (0..<(quick ? 3 : 5)).map { _ in try once() }.sorted()
            let flops = 2 * Double(s.m) * Double(s.n) * Double(s.k) * Double(s.batch)
            logSum += Foundation.log(flops / times[times.count / 2] / 1e9)
            terms += 1
        }
        return Foundation.exp(logSum / Double(terms))
    }
}
