import Synchronization

/// The rows of a global batch that this process computes: a rank's share in data-parallel
/// training, or one pass of a step computed in several (micro-batches).
///
/// Layers that draw random numbers per sample (``Dropout``) draw them for the whole global batch
/// and keep this shard's rows, so every rank consumes the same random stream and a sample gets the
/// same mask whichever rank or pass computes it, and however the batch is split: N ranks, or N
/// passes, then follow a one-process, one-pass run with the global batch step for step.
public struct BatchShard: Sendable, Equatable {
    /// The first row of the global batch in this shard.
    public var offset: Int
    /// The rows in this shard.
    public var count: Int
    /// The rows of the global batch.
    public var total: Int
    /// Which of this process's passes over the step's batch this is (0 for the only one).
    public var pass: Int
    /// With several passes per step: where each random stream stood when the step's first pass
    /// drew from it, so that every later pass draws the same numbers (``PassDraws``).
    public var draws: PassDraws?

    /// A shard of rows `offset ..< offset + count` of a `total`-row batch, computed in pass `pass`
    /// of the step, whose passes share `draws`.
    public init(offset: Int, count: Int, total: Int, pass: Int = 0, draws: PassDraws? = nil) {
        self.offset = offset
        self.count = count
        self.total = total
        self.pass = pass
        self.draws = draws
    }

    /// The same rows of the same batch in the same pass.
    public static func == (lhs: BatchShard, rhs: BatchShard) -> Bool {
        (lhs.offset, lhs.count, lhs.total, lhs.pass) == (rhs.offset, rhs.count, rhs.total, rhs.pass)
            && lhs.draws === rhs.draws
    }

    /// The shard that the code running inside ``withShard(_:_:)`` computes (`nil`: the whole batch).
    @TaskLocal public static var current: BatchShard?

    /// Runs `body` with `shard` as ``current``.
    public static func withShard<R>(_ shard: BatchShard?, _ body: () throws -> R) rethrows -> R {
        try $current.withValue(shard, operation: body)
    }
}

/// The random streams of one step computed in several passes: each stream's position before the
/// first pass's first draw. Every later pass puts the stream back there before its first draw and
/// then draws what the first pass drew, in the same order, so the stream ends each pass (and the
/// step) where one pass over the whole batch would leave it.
public final class PassDraws: Sendable {
    /// A stream in a pass.
    private struct StreamPass: Hashable {
        let stream: ObjectIdentifier
        let pass: Int
    }

    private let state = Mutex<(starts: [ObjectIdentifier: UInt64], rewound: Set<StreamPass>)>(([:], []))

    /// An empty record, for one step.
    public init() {}

    /// Call before drawing from `generator` in pass `pass` of the step.
    public func willDraw(from generator: RandomGenerator, pass: Int) {
        let id = ObjectIdentifier(generator)
        state.withLock { state in
            if pass == 0 {
                if state.starts[id] == nil { state.starts[id] = generator.counter }
            } else if let start = state.starts[id], state.rewound.insert(StreamPass(stream: id, pass: pass)).inserted {
                generator.restore(counter: start)
            }
        }
    }
}
