import Cortado

/// Cuts a data set into mini-batches, epoch by epoch, in a seeded order.
///
/// With `shuffle`, each epoch's order is a Fisher–Yates shuffle driven by a ``RandomGenerator``
/// seeded from `seed` and the epoch number: the same seed and epoch give the same order, other
/// epochs give other orders. Without it, samples come in data set order. The last batch of an
/// epoch keeps the remainder, so it may be smaller than `batchSize`.
///
/// Batches are assembled on a background thread that stays up to `prefetch` batches ahead of the
/// consumer, so the training loop does not wait for copying:
///
/// ```swift
/// let loader = try BatchLoader(dataset: data.split.train, batchSize: 64, shuffle: true, seed: 42)
/// for epoch in 0..<epochs {
///     for batch in loader.batches(epoch: epoch) {
///         let x = try batch.inputTensor(device: device)     // [64, 1, 28, 28]
///         let y = try batch.targetTensor(device: device)    // labels [64]
///         …
///     }
/// }
/// ```
///
/// Leaving the loop early (`break`, `throw`) releases the iterator, which stops the producer thread.
public struct BatchLoader: Sendable {
    /// The samples to batch.
    public let dataset: Dataset
    /// The largest number of samples in a batch.
    public let batchSize: Int
    /// Whether each epoch visits the samples in a shuffled order.
    public let shuffle: Bool
    /// The seed from which every epoch's order derives.
    public let seed: UInt64
    /// How many assembled batches the background thread keeps ready.
    public let prefetch: Int

    /// A loader over `dataset`; throws unless `batchSize` and `prefetch` are positive.
    public init(dataset: Dataset, batchSize: Int, shuffle: Bool, seed: UInt64, prefetch: Int = 2) throws {
        guard batchSize > 0 else { throw DataError.invalidRequest("the batch size must be positive, got \(batchSize)") }
        guard prefetch > 0 else { throw DataError.invalidRequest("prefetch must be at least 1 batch, got \(prefetch)") }
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.prefetch = prefetch
    }

    /// The number of batches in one epoch, counting a last partial batch.
    public var batchesPerEpoch: Int { (dataset.count + batchSize - 1) / batchSize }

    /// The order in which `epoch` visits the samples (their indices in the data set).
    public func sampleOrder(epoch: Int) -> [Int] {
        var order = Array(0..<dataset.count)
        guard shuffle, order.count > 1 else { return order }
        let generator = RandomGenerator(seed: epochSeed(epoch))
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, generator.nextInt(below: i + 1))
        }
        return order
    }

    /// The batches of `epoch`, produced on a background thread once iteration starts.
    public func batches(epoch: Int) -> EpochBatches {
        EpochBatches(loader: self, epoch: epoch)
    }

    /// The batches of `epoch` after its first `skipping` (which are never assembled): where an
    /// interrupted epoch continues.
    public func batches(epoch: Int, skipping: Int) -> EpochBatches {
        EpochBatches(loader: self, epoch: epoch, skipping: max(skipping, 0))
    }

    /// The batch of the samples at `indices`, in that order (runs on the producer thread).
    func assembleBatch(_ indices: ArraySlice<Int>) -> Batch {
        let width = dataset.featuresPerSample
        let inputs = dataset.features.withUnsafeBufferPointer { features in
            [Float](unsafeUninitializedCapacity: indices.count * width) { buffer, initialized in
                guard let destination = buffer.baseAddress, let source = features.baseAddress else { return }
                for (slot, index) in indices.enumerated() {
                    (destination + slot * width).update(from: source + index * width, count: width)
                }
                initialized = indices.count * width
            }
        }
        var labels: [Int32]?
        var targets: [Float]?
        switch dataset.targets {
        case let .classes(all, _): labels = indices.map { all[$0] }
        case let .values(all): targets = indices.map { all[$0] }
        }
        return Batch(
            inputs: inputs, inputShape: [indices.count] + dataset.sampleShape, labels: labels, targets: targets,
            count: indices.count, sampleIndices: Array(indices))
    }

    /// A seed for `epoch` that differs from every other epoch's and from `seed` itself (SplitMix64).
    private func epochSeed(_ epoch: Int) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (UInt64(bitPattern: Int64(epoch)) &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The batches of one epoch, as a sequence; each iterator runs its own producer thread.
public struct EpochBatches: Sequence, Sendable {
    /// The loader that cuts the batches.
    public let loader: BatchLoader
    /// The epoch, which picks the shuffled order.
    public let epoch: Int
    /// Batches of the epoch left out at its start.
    public var skipping = 0

    /// Starts a producer thread and returns the iterator that consumes its batches.
    public func makeIterator() -> BatchIterator {
        BatchIterator(loader: loader, epoch: epoch, skipping: skipping)
    }
}
