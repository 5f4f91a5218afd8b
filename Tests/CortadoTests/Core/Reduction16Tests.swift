import Testing
@testable import Cortado

/// The CPU's reductions of 16-bit tensors widen a tile of each row (or block of columns) at a time:
/// the results are float32 sums, extrema and first-largest indices of the stored values, and no
/// float32 copy of the input is made (it set the peak of a bf16 cnn step: its bias gradient).
@Suite("Reductions of 16-bit tensors on the CPU")
struct Reduction16Tests {
    /// Rows longer than a widening tile (1024), and blocks of columns wider than one.
    static let shapes: [(shape: [Int], axes: [Int])] = [([3, 2500], [1]), ([2, 5, 1300], [1]), ([2, 3, 1100], [0, 2])]

    @Test("sum, mean, max, min match double-precision loops over the stored values", arguments: [DType.float16, .bfloat16])
    func matchDoubleLoops(dtype: DType) throws {
        for (index, (shape, axes)) in Self.shapes.enumerated() {
            let x = try Tensor(Fixtures.values(shape.reduce(1, *), seed: 41 + UInt64(index), low: -4, high: 4), shape: shape)
                .to(dtype: dtype)
            let stored = try x.to(dtype: .float32).toArray().map(Double.init)
            let sums = Self.reduced(stored, shape: shape, axes: axes, start: 0, +)
            let count = Double(axes.map { shape[$0] }.reduce(1, *))
            let context = "\(dtype) \(shape) over \(axes)"
            // One rounding of a float32 sum to the 16-bit type: half an ulp of 2^-7 (bf16) relative.
            try assertClose(x.sum(axes: axes).to(dtype: .float32), sums.map(Float.init), rtol: 8e-3, atol: 1e-3, "sum \(context)")
            try assertClose(x.mean(axes: axes).to(dtype: .float32), sums.map { Float($0 / count) }, rtol: 8e-3, atol: 1e-4, "mean \(context)")
            // Extrema are stored values: exact.
            #expect(try x.max(axes: axes).to(dtype: .float32).toArray()
                == Self.reduced(stored, shape: shape, axes: axes, start: -.infinity, Swift.max).map(Float.init), "max \(context)")
            #expect(try x.min(axes: axes).to(dtype: .float32).toArray()
                == Self.reduced(stored, shape: shape, axes: axes, start: .infinity, Swift.min).map(Float.init), "min \(context)")
        }
    }

    @Test("argmax finds the first largest stored value past the first tile, along rows and columns", arguments: [DType.float16, .bfloat16])
    func argmax(dtype: DType) throws {
        var rows = [Float](repeating: 0, count: 2 * 3000)
        (rows[1500], rows[2900], rows[3000 + 2999]) = (5, 5, -1)  // row 1's largest is 0 at 0
        #expect(try Tensor(rows, shape: [2, 3000]).to(dtype: dtype).argmax(axis: 1).toIntArray() == [1500, 0])
        // [2, 3, 1100] along axis 1: column 1050 of block 1 peaks at row 2, every other at row 0.
        var columns = [Float](repeating: 1, count: 2 * 3 * 1100)
        columns[1 * 3300 + 2 * 1100 + 1050] = 2
        let expected = (0..<2200).map { $0 == 1100 + 1050 ? Int32(2) : 0 }
        #expect(try Tensor(columns, shape: [2, 3, 1100]).to(dtype: dtype).argmax(axis: 1).toIntArray() == expected)
    }

    @Test("a reduction of a 16-bit tensor allocates no float32 copy of it")
    func noWideCopy() throws {
        let x = try Tensor(Fixtures.values(64 * 4096, seed: 7, low: -1, high: 1), shape: [64, 4096]).to(dtype: .bfloat16)
        let device = Device.cpu
        // The peak is the process's: tests running beside this one add to it, never take from it,
        // so the least of a few tries is this test's own.
        var peak = Int.max
        for _ in 0..<5 where peak >= 64 * 1024 {
            try device.emptyCache()
            try device.resetPeakMemory()
            let live = try device.memoryStatistics.liveBytes
            for axes in [[1], [0], [0, 1]] { _ = try x.sum(axes: axes) }
            peak = min(peak, try device.memoryStatistics.peakLiveBytes - live)
        }
        #expect(peak < 64 * 1024, "peak \(peak) bytes above the input's \(x.count * 2)")
    }

    /// `op` over `axes` of a row-major `values` of `shape`, in double precision.
    static func reduced(_ values: [Double], shape: [Int], axes: [Int], start: Double, _ op: (Double, Double) -> Double) -> [Double] {
        let strides = shape.indices.map { shape[($0 + 1)...].reduce(1, *) }
        let kept = shape.indices.filter { !axes.contains($0) }
        var out = [Double](repeating: start, count: kept.map { shape[$0] }.reduce(1, *))
        for (flat, value) in values.enumerated() {
            var slot = 0
            for axis in kept { slot = slot * shape[axis] + flat / strides[axis] % shape[axis] }
            out[slot] = op(out[slot], value)
        }
        return out
    }
}
