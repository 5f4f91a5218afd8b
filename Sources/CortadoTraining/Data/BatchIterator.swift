import Foundation

/// Hands out the batches of one epoch as a background thread assembles them.
///
/// `next()` blocks only when the producer has not kept up. Call ``stop()`` or simply drop the
/// iterator to end the epoch early: the producer thread then exits, and `stop()` waits until it has.
/// Use one iterator from one thread at a time.
public final class BatchIterator: IteratorProtocol {
    private let queue: BatchQueue

    /// Starts the producer for `epoch` of `loader`, leaving out the epoch's first `skipping` batches.
    init(loader: BatchLoader, epoch: Int, skipping: Int = 0) {
        let queue = BatchQueue(capacity: loader.prefetch)
        self.queue = queue
        let thread = Thread {
            defer { queue.producerDidExit() }
            let order = loader.sampleOrder(epoch: epoch)
            let first = skipping.multipliedReportingOverflow(by: loader.batchSize)
            let from = first.overflow ? order.count : min(first.partialValue, order.count)
            for start in stride(from: from, to: order.count, by: loader.batchSize) {
                if queue.isCancelled { return }
                let batch = loader.assembleBatch(order[start..<min(start + loader.batchSize, order.count)])
                if !queue.put(batch) { return }
            }
            queue.finish()
        }
        thread.name = "cortado.batches"
        thread.start()
    }

    deinit {
        queue.cancel()
    }

    /// The next batch, waiting for the producer if need be; `nil` after the epoch's last batch.
    public func next() -> Batch? {
        queue.take()
    }

    /// Ends the epoch early: tells the producer to stop and waits until its thread has exited.
    public func stop() {
        queue.cancel()
        queue.waitForProducerExit()
    }

    /// Whether the producer thread has exited (after the last batch, or after being stopped).
    var producerHasExited: Bool { queue.producerHasExited }

    /// How many assembled batches wait to be taken.
    var queuedBatchCount: Int { queue.count }

    /// The queue shared with the producer thread, so tests can watch it being released.
    var queueForTesting: BatchQueue { queue }
}

/// A bounded first-in first-out queue between one producer thread and one consumer.
final class BatchQueue: @unchecked Sendable {
    // Every stored property below is read and written only while holding `condition`.
    private let condition = NSCondition()
    private let capacity: Int
    private var batches: [Batch] = []
    private var finished = false
    private var cancelled = false
    private var exited = false

    /// A queue that holds at most `capacity` batches.
    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds a batch, waiting while the queue is full; returns `false` (dropping it) once cancelled.
    func put(_ batch: Batch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        batches.append(batch)
        condition.broadcast()
        return true
    }

    /// Marks the end of the epoch: `take()` returns `nil` once the queue is empty.
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// The oldest batch, waiting while the queue is empty; `nil` when finished and drained, or cancelled.
    func take() -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !finished && !cancelled && !exited { condition.wait() }
        guard !cancelled, !batches.isEmpty else { return nil }
        let batch = batches.removeFirst()
        condition.broadcast()
        return batch
    }

    /// How many batches wait in the queue.
    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return batches.count
    }

    /// Whether the consumer has asked the producer to stop.
    var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    /// Asks the producer to stop and wakes it if it waits for room; drops queued batches.
    func cancel() {
        condition.lock()
        cancelled = true
        batches.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    /// Called by the producer thread as its last act.
    func producerDidExit() {
        condition.lock()
        exited = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the producer thread has called ``producerDidExit()``.
    func waitForProducerExit() {
        condition.lock()
        while !exited { condition.wait() }
        condition.unlock()
    }

    /// Whether the producer thread has exited.
    var producerHasExited: Bool {
        condition.lock()
        defer { condition.unlock() }
        return exited
    }
}
