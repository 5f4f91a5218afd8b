import CortadoRuntime
import Dispatch
import Testing

/// The CPU's parallel loops, which every CPU op runs on: each index is visited exactly once, also
/// when several threads start loops at the same time and when a loop runs inside another.
@Suite("CPU parallel loops")
struct ParallelTests {
    @Test("every index exactly once: from concurrent callers, nested, and for counts below the cores")
    func everyIndexOnce() {
        let (callers, loops, count) = (4, 200, 1000)
        let visits = UnsafeMutableBufferPointer<Int32>.allocate(capacity: callers * count)
        visits.initialize(repeating: 0)
        defer { visits.deallocate() }
        let shared = SendablePointer(visits.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            let mine = shared.pointer + caller * count
            for loop in 0..<loops {
                // Grain 1: as many pieces as there are cores; every tenth loop nests a second one.
                Parallel.forEach(count: count, grain: 1) { range in
                    if loop % 10 == 0 {
                        Parallel.forEach(count: range.count, grain: 1) { inner in
                            for i in inner { mine[range.lowerBound + i] += 1 }
                        }
                    } else {
                        for i in range { mine[i] += 1 }
                    }
                }
            }
        }
        #expect(visits.allSatisfy { $0 == Int32(loops) })
        var single = [Int](repeating: 0, count: 1)
        Parallel.forEach(count: 1, grain: 1) { range in for i in range { single[i] += 1 } }
        #expect(single == [1])
    }
}

/// A pointer handed to concurrent closures that write disjoint elements.
private struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>
    init(_ pointer: UnsafeMutablePointer<Int32>) { self.pointer = pointer }
}
