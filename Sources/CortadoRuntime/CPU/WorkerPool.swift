import Foundation
import Synchronization

/// Helper threads for ``Parallel`` that stay awake for a moment after each loop, so that the next
/// loop of a training step finds them running instead of waking a sleeping core (tens of µs on a
/// virtual machine). While they wait they yield the core to any other runnable thread, such as
/// OpenBLAS's own workers, and after `spinNanoseconds` without work they sleep.
///
/// Participants claim pieces one at a time from a shared counter, the caller included, so a loop
/// never waits for a helper that has not been scheduled yet: the caller then runs every piece.
final class WorkerPool: @unchecked Sendable {
    /// The pool with one helper per core beyond the calling one.
    static let shared = WorkerPool(helpers: Parallel.workers - 1)

    /// How long an idle helper keeps polling before it sleeps.
    private static let spinNanoseconds: UInt64 = 200_000

    private let helpers: Int
    /// Bumped once per loop; a sleeping helper waits for it to change.
    private let generation = Atomic<Int>(0)
    /// The current loop's claims: its generation (bits 32 and up), its piece count (bits 16–31) and
    /// the next unclaimed piece (bits 0–15). A claim is valid only for the generation it names.
    private let claims = Atomic<Int>(0)
    /// Pieces of the current loop that have finished.
    private let finished = Atomic<Int>(0)
    /// Whether a loop is running: a second caller (another thread, or a loop inside a loop) runs
    /// its loop on its own thread instead.
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wake = NSCondition()
    /// The current loop's body: written before the loop is published, read only by a participant
    /// holding a claim of it (the loop cannot end before that piece finishes).
    private var body: ((Int) -> Void)?

    private init(helpers: Int) {
        self.helpers = max(helpers, 0)
        for index in 0..<self.helpers {
            let thread = Thread { [unowned self] in self.serve() }
            thread.name = "cortado-cpu-\(index + 1)"
            thread.start()
        }
    }

    /// Runs `body(piece)` for every piece in `0..<pieces` on the caller and the helpers, and returns
    /// when all are done; false, without running anything, when the pool has no helpers, is busy,
    /// or `pieces` is too large for its counter.
    func run(pieces: Int, _ body: (Int) -> Void) -> Bool {
        guard helpers > 0, pieces < 1 << 16,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        withoutActuallyEscaping(body) { body in
            self.body = body
            let loop = generation.load(ordering: .relaxed) + 1
            finished.store(0, ordering: .relaxed)
            claims.store(loop << 32 | pieces << 16, ordering: .sequentiallyConsistent)
            generation.store(loop, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                wake.lock()
                wake.broadcast()
                wake.unlock()
            }
            work(on: loop)
            // Only pieces that helpers have claimed and are running remain.
            var polls = 0
            while finished.load(ordering: .acquiring) < pieces {
                polls += 1
                if polls & 63 == 0 { sched_yield() }
            }
            self.body = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    /// Claims and runs pieces of loop `loop` until none is left.
    private func work(on loop: Int) {
        var state = claims.load(ordering: .acquiring)
        while state >> 32 == loop, state & 0xFFFF < (state >> 16) & 0xFFFF {
            let (exchanged, current) = claims.compareExchange(
                expected: state, desired: state + 1, ordering: .acquiringAndReleasing)
            if exchanged {
                body?(state & 0xFFFF)
                finished.add(1, ordering: .releasing)
                state += 1
            } else {
                state = current
            }
        }
    }

    private func serve() {
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
            work(on: seen)
        }
    }
}
