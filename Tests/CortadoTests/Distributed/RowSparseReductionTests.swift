@testable import CortadoTraining
import Foundation
import Testing

/// `RowSparseReduction`: two ranks in one process (two threads) that touch different rows of a
/// table get the dense all-reduce's result bit for bit, while only the union's rows are summed.
@Suite("Row-sparse reduction")
struct RowSparseReductionTests {
    /// Two ranks in one process: each collective waits for the other rank's call, then both get the
    /// element-wise sum. Records the size of every float all-reduce rank 0 makes.
    final class Pair: @unchecked Sendable {
        private let condition = NSCondition()
        private var posted: [UnsafeMutableBufferPointer<Float>?] = [nil, nil]
        private var arrived = 0
        private var generation = 0
        var sizes: [Int] = []
        var mismatch = false

        func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>, rank: Int) {
            condition.lock()
            defer { condition.unlock() }
            posted[rank] = values
            arrived += 1
            if arrived == 2 {
                let a = posted[0]!, b = posted[1]!
                if a.count == b.count {
                    sizes.append(a.count)
                    for index in a.indices {
                        let sum = a[index] + b[index]
                        a[index] = sum
                        b[index] = sum
                    }
                } else {
                    mismatch = true
                }
                arrived = 0
                generation += 1
                condition.broadcast()
            } else {
                let waiting = generation
                while generation == waiting { condition.wait() }
            }
        }
    }

    /// One rank of a ``Pair``.
    final class Member: Communicator, @unchecked Sendable {
        let rank: Int, size = 2, localSize = 2
        var localRank: Int { rank }
        let pair: Pair
        init(rank: Int, pair: Pair) {
            self.rank = rank
            self.pair = pair
        }
        func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws { pair.allReduceSum(values, rank: rank) }
        func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws { Issue.record("unexpected double all-reduce") }
        func allReduceMax(_ values: UnsafeMutableBufferPointer<Double>) throws { Issue.record("unexpected max all-reduce") }
        func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { [bytes, bytes] }
        func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {}
        func abort(_ message: String, code: Int32) -> Never { fatalError(message) }
    }

    /// A `rows × width` table that is zero except in `touched`, filled from `seed`.
    static func table(rows: Int, width: Int, touched: [Int], seed: UInt64) -> [Float] {
        var values = [Float](repeating: 0, count: rows * width)
        let fill = Fixtures.values(touched.count * width, seed: seed)
        for (slot, row) in touched.enumerated() {
            for column in 0..<width { values[row * width + column] = fill[slot * width + column] }
        }
        return values
    }

    /// How many of `values` differ in their bits from `expected`.
    static func differing(_ values: [Float], _ expected: [Float]) -> Int {
        zip(values, expected).filter { $0.bitPattern != $1.bitPattern }.count
    }

    /// Runs one reduction of each rank's table on its own thread; returns the two results.
    static func reduce(_ tables: [[Float]], rows: Int, width: Int, pair: Pair, steps: Int = 1) throws -> ([[Float]], [RowSparseReduction]) {
        let reductions = try (0..<2).map { _ in try #require(RowSparseReduction(rows: rows, width: width)) }
        nonisolated(unsafe) var results = tables
        nonisolated(unsafe) var failures: [any Error] = []
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { rank in
            do {
                for _ in 0..<steps {
                    var values = tables[rank]
                    try values.withUnsafeMutableBufferPointer {
                        try reductions[rank].allReduceSum($0, communicator: Member(rank: rank, pair: pair))
                    }
                    lock.withLock { results[rank] = values }
                }
            } catch {
                lock.withLock { failures.append(error) }
            }
        }
        if let failure = failures.first { throw failure }
        return (results, reductions)
    }

    @Test("ranks touching different rows get the dense sum bit for bit, and only the union is summed")
    func sparseUnion() throws {
        let rows = 2048, width = 8
        var first = Self.table(rows: rows, width: width, touched: [3, 100, 2047], seed: 5)
        var second = Self.table(rows: rows, width: width, touched: [100, 500], seed: 6)
        first[7 * width + 2] = -0.0   // a row that only -0.0 touches: summed, keeping the sign of the dense sum
        second[7 * width + 2] = -0.0
        second[9 * width] = -0.0
        let pair = Pair()
        let (results, reductions) = try Self.reduce([first, second], rows: rows, width: width, pair: pair)
        let dense = zip(first, second).map { $0 + $1 }
        for rank in 0..<2 {
            #expect(Self.differing(results[rank], dense) == 0, "rank \(rank): values whose bits differ from the dense sum's")
            #expect(reductions[rank].lastUnion == 6 && reductions[rank].enabled, "rank \(rank)")
        }
        #expect(dense[7 * width + 2].sign == .minus)
        #expect(!pair.mismatch)
        #expect(pair.sizes == [rows, 6 * width], "the marks, then the six rows of the union")
    }

    @Test("a union of more than a quarter of the rows is all-reduced whole, and the rows are not marked again")
    func denseFallback() throws {
        let rows = 1024, width = 4
        let first = Self.table(rows: rows, width: width, touched: Array(0..<200), seed: 7)
        let second = Self.table(rows: rows, width: width, touched: Array(150..<400), seed: 8)
        let pair = Pair()
        let (results, reductions) = try Self.reduce([first, second], rows: rows, width: width, pair: pair, steps: 2)
        let dense = zip(first, second).map { $0 + $1 }
        for rank in 0..<2 {
            #expect(Self.differing(results[rank], dense) == 0, "rank \(rank): values whose bits differ from the dense sum's")
            #expect(!reductions[rank].enabled && reductions[rank].lastUnion == nil, "rank \(rank)")
        }
        #expect(pair.sizes == [rows, rows * width, rows * width], "marks and the whole table, then the whole table alone")
    }

    @Test("a table of fewer rows than the minimum is not marked")
    func shortTable() {
        #expect(RowSparseReduction(rows: RowSparseReduction.minimumRows - 1, width: 64) == nil)
        #expect(RowSparseReduction(rows: RowSparseReduction.minimumRows, width: 64) != nil)
    }
}
