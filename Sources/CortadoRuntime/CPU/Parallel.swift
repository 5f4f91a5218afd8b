import Dispatch
import Foundation

/// Splits loops over the CPU cores when they are large enough to pay for it.
package enum Parallel {
    /// Threads for CPU loops: `CORTADO_NUM_THREADS` when set to a positive number (read once,
    /// before the first loop; `cortado --threads` sets it), else the cores available to the process.
    package static let workers: Int = {
        if let text = ProcessEnvironment.value("CORTADO_NUM_THREADS"), let count = Int(text), count > 0 { return count }
        return max(ProcessInfo.processInfo.activeProcessorCount, 1)
    }()

    /// Runs `body` over consecutive sub-ranges of `0..<count`, concurrently when `count` holds at
    /// least two `grain`-sized pieces of work.
    @inline(__always)
    package static func forEach(count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let pieces = min(workers, count / max(grain, 1))
        if pieces <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        // The pieces write disjoint ranges; the caller's closure is only borrowed for the call.
        run(pieces: pieces) { piece in body((count * piece / pieces)..<(count * (piece + 1) / pieces)) }
    }

    /// Runs `body(piece)` for every piece on the ``WorkerPool``, or on Dispatch's threads when the
    /// pool is already running a loop.
    private static func run(pieces: Int, _ body: (Int) -> Void) {
        if WorkerPool.shared.run(pieces: pieces, body) { return }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: pieces) { shared.value($0) }
        }
    }
}

extension Parallel {
    /// How many pieces ``forEachPiece(count:grain:_:)`` splits `count` items into (at least 1).
    static func pieces(count: Int, grain: Int) -> Int {
        max(1, min(workers, count / max(grain, 1)))
    }

    /// Runs `body(piece, range)` over consecutive sub-ranges of `0..<count`, as
    /// ``forEach(count:grain:_:)`` does, passing each range's piece index (below
    /// ``pieces(count:grain:)``) so that a piece can use its own slice of scratch memory.
    static func forEachPiece(count: Int, grain: Int, _ body: (Int, Range<Int>) -> Void) {
        let pieces = pieces(count: count, grain: grain)
        if pieces == 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        run(pieces: pieces) { piece in body(piece, (count * piece / pieces)..<(count * (piece + 1) / pieces)) }
    }
}

/// Walks strided operands row by row: up to four operands, their offsets and strides packed in
/// `SIMD4<Int>` lanes; the innermost dimension is the row that `body` loops over.
enum StridedRows {
    /// Calls `body(offsets, innerStrides, length)` for every row of `shape`, in parallel chunks
    /// when the total work exceeds `grain` elements.
    @inline(__always)
    static func forEach(
        shape: [Int], strides: [SIMD4<Int>], base: SIMD4<Int>, grain: Int,
        _ body: (SIMD4<Int>, SIMD4<Int>, Int) -> Void
    ) {
        let rank = shape.count
        let length = shape[rank - 1]
        let innerStrides = strides[rank - 1]
        let rows = shape.dropLast().reduce(1, *)
        Parallel.forEach(count: rows, grain: max(1, grain / max(length, 1))) { range in
            var index = [Int](repeating: 0, count: max(rank - 1, 1))
            var offsets = base
            var remaining = range.lowerBound
            for axis in stride(from: rank - 2, through: 0, by: -1) {
                index[axis] = remaining % shape[axis]
                remaining /= shape[axis]
                offsets &+= strides[axis] &* index[axis]
            }
            for _ in range {
                body(offsets, innerStrides, length)
                var axis = rank - 2
                while axis >= 0 {
                    index[axis] += 1
                    offsets &+= strides[axis]
                    if index[axis] < shape[axis] { break }
                    offsets &-= strides[axis] &* shape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }

    /// Merges the operands' dimensions and packs their strides and offsets into SIMD lanes.
    static func layout(_ shape: [Int], _ operands: [StridedView]) -> (shape: [Int], strides: [SIMD4<Int>], base: SIMD4<Int>) {
        let merged = Layout.coalesce(shape: shape, strides: operands.map(\.strides))
        var strides = [SIMD4<Int>](repeating: .zero, count: merged.shape.count)
        var base = SIMD4<Int>.zero
        for (lane, operand) in operands.enumerated() {
            base[lane] = operand.offset
            for axis in merged.shape.indices { strides[axis][lane] = merged.strides[lane][axis] }
        }
        return (merged.shape, strides, base)
    }
}

/// Carries a value into a `@Sendable` closure whose safety the caller guarantees by construction
/// (disjoint writes, or handles that the driver allows on any thread).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
