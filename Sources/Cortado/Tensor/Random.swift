import Synchronization

/// A source of random numbers: a seed and a position in its Philox-4x32-10 stream.
///
/// Every random tensor consumes a fixed number of stream positions for its size (one Philox block
/// per four uniform or Bernoulli elements, one per normal element), so the same calls
/// after the same seed give the same numbers, on any device. Give independent consumers (data
/// shuffling, dropout, initialisation) their own generator to keep them reproducible apart.
public final class RandomGenerator: Sendable {
    private let state: Mutex<(seed: UInt64, counter: UInt64)>

    /// A generator at the start of the stream for `seed`.
    public init(seed: UInt64) {
        state = Mutex((seed, 0))
    }

    /// Restarts the stream from `seed`.
    public func seed(_ seed: UInt64) {
        state.withLock { $0 = (seed, 0) }
    }

    /// Stream positions drawn since the seed (as `torch.Generator.get_state`): a checkpoint records
    /// it so that a resumed run draws what the uninterrupted one would have drawn.
    public var counter: UInt64 {
        state.withLock { $0.counter }
    }

    /// Continues the stream of the current seed from position `counter` (as `set_state`).
    public func restore(counter: UInt64) {
        state.withLock { $0.counter = counter }
    }

    /// Reserves `count` stream positions; returns the seed and the first position.
    package func reserve(_ count: Int) -> (seed: UInt64, counter: UInt64) {
        state.withLock { state in
            let start = state.counter
            state.counter &+= UInt64(count)
            return (state.seed, start)
        }
    }

    /// A uniformly distributed integer in `0..<upperBound` (host-side, e.g. for shuffling).
    public func nextInt(below upperBound: Int) -> Int {
        precondition(upperBound > 0, "nextInt(below:) needs a positive bound")
        let (seed, counter) = reserve(1)
        let words = Philox.block(counter: counter, seed: seed)
        let value = UInt64(words.x) << 32 | UInt64(words.y)
        return Int(value % UInt64(upperBound))
    }
}

/// The global random generator, used when no generator is given.
public enum Random {
    /// The generator behind ``Tensor/uniform(_:low:high:device:generator:)`` and friends by default.
    public static let global = RandomGenerator(seed: 0x5EED_C0FF_EE00_0001)

    /// Restarts the global stream from `seed` (as `torch.manual_seed`).
    public static func seed(_ seed: UInt64) {
        global.seed(seed)
    }
}
