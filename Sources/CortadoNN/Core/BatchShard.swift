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

    /// A shard of rows `offset ..< offset + count` of a `total`-row batch.
    public init(offset: Int, count: Int, total: Int) {
        self.offset = offset
        self.count = count
        self.total = total
    }

    /// The shard that the code running inside ``withShard(_:_:)`` computes (`nil`: the whole batch).
    @TaskLocal public static var current: BatchShard?

    /// Runs `body` with `shard` as ``current``.
    public static func withShard<R>(_ shard: BatchShard?, _ body: () throws -> R) rethrows -> R {
        try $current.withValue(shard, operation: body)
    }
}
