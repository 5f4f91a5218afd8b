/// The rows of a global batch that this process computes, in data-parallel training.
///
/// Layers that draw random numbers per sample (``Dropout``) draw them for the whole global batch
/// and keep this shard's rows, so every rank consumes the same random stream and a sample gets the
/// same mask whichever rank computes it, and however the batch is split: N ranks then follow a
/// one-process run with the global batch step for step.
public struct BatchShard: Sendable, Equatable {
    /// The first row of the global batch in this shard.
    public var offset: Int
    /// The rows in this shard.
    public var count: Int
    /// The rows of the global batch.
    public var total: Int
    /// Which of this process's passes over its rows of the step this is (micro-batches: see
    /// `Trainer.microBatch`): the first pass draws the global batch's random numbers, later passes
    /// of the same step draw the same ones again, so the stream moves on as for one draw.
    public var pass: Int

    /// A shard of rows `offset ..< offset + count` of a `total`-row batch, computed in pass `pass`
    /// of the step.
    public init(offset: Int, count: Int, total: Int, pass: Int = 0) {
        self.offset = offset
        self.count = count
        self.total = total
        self.pass = pass
    }

    /// The shard that the code running inside ``withShard(_:_:)`` computes (`nil`: the whole batch).
    @TaskLocal public static var current: BatchShard?

    /// Runs `body` with `shard` as ``current``.
    public static func withShard<R>(_ shard: BatchShard?, _ body: () throws -> R) rethrows -> R {
        try $current.withValue(shard, operation: body)
    }
}
