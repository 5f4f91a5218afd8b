import Cortado
import Foundation
import Testing

/// The real thing, too heavy for CI: a 2.5 GiB float32 embedding table on an OpenCL device whose
/// allocation cap is smaller (PoCL with `POCL_MEMORY_LIMIT=8`: 8 GiB of memory, a 2 GiB cap).
/// Runs only with `CORTADO_BIG_ALLOCATION_TEST=1`:
///
///     CORTADO_BIG_ALLOCATION_TEST=1 POCL_MEMORY_LIMIT=8 swift test --filter BigAllocationTests
@Suite("A table over the real allocation cap")
struct BigAllocationTests {
    static let enabled = ProcessInfo.processInfo.environment["CORTADO_BIG_ALLOCATION_TEST"] == "1"
    /// 1,342,178 × 500 float32: 2.50 GiB.
    static let (rows, width) = (1_342_178, 500)

    @Test("a 2.5 GiB embedding table gathers and scatters its gradient", .enabled(if: enabled))
    func embeddingTable() throws {
        let device = TestDevices.openCL
        let cap = try #require(try device.info.maxAllocationBytes)
        let bytes = Self.rows * Self.width * 4
        guard cap < bytes else {
            Issue.record("the device's cap \(formatBytes(cap)) holds the whole table; run with POCL_MEMORY_LIMIT=8 (a 2 GiB cap)")
            return
        }
        try device.resetPeakMemory()
        let start = Date()
        let table = try Tensor.uniform([Self.rows, Self.width], low: -1, high: 1, device: device, generator: RandomGenerator(seed: 5))
            .requiringGrad()
        let segments = try #require(table.buffer.segments)
        #expect(segments.buffers.count == (bytes + cap - 1) / cap)
        #expect(segments.length % Self.width == 0)
        let boundary = Int32(segments.length / Self.width)
        let last = Int32(Self.rows - 1)
        // Ids in any order, repeated, on both sides of the boundary, at both ends, and outside.
        let ids: [Int32] = [boundary, 7, boundary - 1, last, 0, boundary, 123_456, boundary + 1, 7, -1, Int32(Self.rows), 1_200_000, last]
        let weights = (0..<(ids.count * Self.width)).map { Float($0 % 97) / 97 - 0.5 }
        try device.synchronize()
        let initialized = Date()

        let picked = try table.gatheredRows(Tensor(indices: ids, device: device))
        try (picked * Tensor(weights, shape: [ids.count, Self.width], device: device)).sum().backward()
        let gradient = try #require(table.grad)
        try device.synchronize()
        let computed = Date()

        func row(_ tensor: Tensor, _ index: Int32) throws -> [Float] {
            try tensor.sliced(axis: 0, Int(index)..<(Int(index) + 1)).toArray()
        }
        let gathered = try picked.toArray()
        var expectedGradient: [Int32: [Float]] = [:]
        for (i, id) in ids.enumerated() {
            let slot = Array(gathered[(i * Self.width)..<((i + 1) * Self.width)])
            guard id >= 0 && id <= last else {
                #expect(slot.allSatisfy { $0 == 0 }, "id \(id) outside the table gathers zeros")
                continue
            }
            #expect(slot == (try row(table, id)), "row \(id)")
            var sum = expectedGradient[id] ?? [Float](repeating: 0, count: Self.width)
            for d in 0..<Self.width { sum[d] += weights[i * Self.width + d] }
            expectedGradient[id] = sum
        }
        for (id, expected) in expectedGradient {
            assertClose(try row(gradient, id), expected, rtol: 1e-6, atol: 1e-6, "gradient row \(id)")
        }
        for untouched: Int32 in [1, boundary - 2, boundary + 2, last - 1] {
            #expect(try row(gradient, untouched).allSatisfy { $0 == 0 }, "untouched row \(untouched)")
        }
        let peak = try device.memoryStatistics.peakLiveBytes
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("""
            big allocation: \(device) cap \(formatBytes(cap)), table \(formatBytes(bytes)) in \(segments.buffers.count) segments \
            of \(segments.length / Self.width) rows; random init \(String(format: "%.2f", initialized.timeIntervalSince(start))) s, \
            gather + backward \(String(format: "%.2f", computed.timeIntervalSince(initialized))) s; \
            device peak \(formatBytes(peak)), process max RSS \(formatBytes(usage.ru_maxrss * 1024))
            """)
    }
}
