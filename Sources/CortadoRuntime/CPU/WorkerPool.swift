import Foundation
import Synchronization

/// Helper threads for ``Parallel`` that stay awake for a moment after each loop, so that the next
/// loop of a training step finds them running instead of waking a sleeping core (tens of µs on a
/// virtual machine). While they wait they yield the core to any other runnable thread, such as
/// OpenBLAS's own workers, and after `spinNanoseconds` without work they sleep.
final class WorkerPool: @unchecked Sendable {
    /// The pool with one helper per core beyond the calling one.
    static let shared = WorkerPool(helpers: Parallel.workers - 1)

    /// How long an idle helper keeps polling before it sleeps.
    private static let spinNanoseconds: UInt64 = 200_000

    private let helpers: Int
    /// Bumped once per loop; a helper runs the loop whose number it has not seen yet.
    private let generation = Atomic<Int>(0)
    /// Helpers that have not finished the current loop.
    private let unfinished = Atomic<Int>(0)
    /// Whether a loop is running: a second caller (another thread, or a loop inside a loop) runs
    /// its loop on its own thread instead.
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wake = NSCondition()
    /// The current loop, written before `generation` is bumped and read after it is seen.
    private var loop: (pieces: Int, body: (Int) -> Void)?

    private init(helpers: Int) {
        self.helpers = max(helpers, 0)
        for index in 0..<self.helpers {
            let thread = Thread { [unowned self] in self.serve(helper: index + 1) }
            thread.name = "cortado-cpu-\(index + 1)"
            thread.start()
        }
    }

    /// Runs `body(piece)` for every piece in `0..<pieces`, piece p on participant p mod (helpers + 1)
    /// (the caller is participant 0), and returns when all are done; false, without running
    /// anything, when the pool has no helpers or is busy.
    func run(pieces: Int, _ body: (Int) -> Void) -> Bool {
        guard helpers > 0, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        withoutActuallyEscaping(body) { body in
            loop = (pieces, body)
            unfinished.store(helpers, ordering: .sequentiallyConsistent)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                wake.lock()
                wake.broadcast()
                wake.unlock()
            }
            for piece in stride(from: 0, to: pieces, by: helpers + 1) { body(piece) }
            while unfinished.load(ordering: .acquiring) > 0 {}
            loop = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    private func serve(helper: Int) {
        var seen = 0
        while true {
            var deadline: UInt64 = 0
            var polls = 0
            while generation.load(ordering: .acquiring) == seen {
                polls += 1
                if polls & 63 != 0 { continue }
                let now = DispatchTime.now().uptimeNanoseconds
                if deadline == 0 { deadline = now + Self.spinNanoseconds }
                if now < deadline {
                    sched_yield()
                    continue
                }
                wake.lock()
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { wake.wait() }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                wake.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            if let loop {
                for piece in stride(from: helper, to: loop.pieces, by: helpers + 1) { loop.body(piece) }
            }
            unfinished.subtract(1, ordering: .releasing)
        }
    }
}
