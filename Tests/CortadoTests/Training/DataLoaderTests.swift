@testable import CortadoTraining
import Foundation
import Testing

@Suite("Data: batch loader")
struct DataLoaderTests {
    /// `count` samples of shape [1, 2]: sample i is (i, i + 0.5), with label i % 3.
    static func samples(_ count: Int) throws -> Dataset {
        try Dataset(
            features: (0..<count).flatMap { [Float($0), Float($0) + 0.5] }, sampleShape: [1, 2],
            targets: .classes(labels: (0..<count).map { Int32($0 % 3) }, classCount: 3))
    }

    @Test("every sample appears exactly once per epoch; the last batch keeps the remainder")
    func everySampleOnce() throws {
        let loader = try BatchLoader(dataset: try Self.samples(23), batchSize: 5, shuffle: true, seed: 1)
        #expect(loader.batchesPerEpoch == 5)
        let batches = Array(loader.batches(epoch: 0))
        #expect(batches.map(\.count) == [5, 5, 5, 5, 3])
        #expect(batches.map(\.inputShape) == [[5, 1, 2], [5, 1, 2], [5, 1, 2], [5, 1, 2], [3, 1, 2]])
        let seen = batches.flatMap(\.sampleIndices)
        #expect(seen.sorted() == Array(0..<23))
        #expect(seen == loader.sampleOrder(epoch: 0))
        #expect(seen != Array(0..<23), "a shuffled epoch should not come out in order")
        for batch in batches {
            // Inputs and labels travel with their sample.
            #expect(batch.inputs == batch.sampleIndices.flatMap { [Float($0), Float($0) + 0.5] })
            #expect(batch.labels == batch.sampleIndices.map { Int32($0 % 3) })
            #expect(batch.targets == nil)
        }
    }

    @Test("the same seed and epoch give the same order; other epochs and seeds differ")
    func determinism() throws {
        let data = try Self.samples(100)
        let a = try BatchLoader(dataset: data, batchSize: 8, shuffle: true, seed: 42)
        let b = try BatchLoader(dataset: data, batchSize: 8, shuffle: true, seed: 42)
        let c = try BatchLoader(dataset: data, batchSize: 8, shuffle: true, seed: 43)
        let order = a.batches(epoch: 3).flatMap(\.sampleIndices)
        #expect(order == b.batches(epoch: 3).flatMap(\.sampleIndices))
        #expect(order == a.batches(epoch: 3).flatMap(\.sampleIndices))
        #expect(order != a.batches(epoch: 4).flatMap(\.sampleIndices))
        #expect(order != c.batches(epoch: 3).flatMap(\.sampleIndices))
        #expect(a.sampleOrder(epoch: 0) != a.sampleOrder(epoch: 1))
    }

    @Test("without shuffling, samples come in data set order")
    func inOrder() throws {
        let loader = try BatchLoader(dataset: try Self.samples(10), batchSize: 4, shuffle: false, seed: 0)
        #expect(loader.batches(epoch: 7).map(\.sampleIndices) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
    }

    @Test("regression targets come as floats; tensors have the batch shapes")
    func regressionTargetsAndTensors() throws {
        let data = try Dataset(features: [1, 2, 3, 4, 5, 6], sampleShape: [2], targets: .values([0.5, 1.5, 2.5]))
        let batches = Array(try BatchLoader(dataset: data, batchSize: 2, shuffle: false, seed: 0).batches(epoch: 0))
        #expect(batches.map(\.targets) == [[0.5, 1.5], [2.5]])
        #expect(batches[0].labels == nil)
        let inputs = try batches[0].inputTensor(device: .cpu)
        #expect(inputs.shape == [2, 2])
        #expect(try inputs.toArray() == [1, 2, 3, 4])
        let targets = try batches[1].targetTensor(device: .cpu)
        #expect(targets.shape == [1, 1])
        let labelled = Array(try BatchLoader(dataset: try Self.samples(4), batchSize: 4, shuffle: false, seed: 0).batches(epoch: 0))
        #expect(try labelled[0].targetTensor(device: .cpu).shape == [4])
    }

    @Test("an empty data set gives no batches; bad settings are errors")
    func edgeCases() throws {
        let empty = try Self.samples(0)
        #expect(Array(try BatchLoader(dataset: empty, batchSize: 4, shuffle: true, seed: 0).batches(epoch: 0)).isEmpty)
        expectDataError(containing: ["batch size must be positive, got 0"]) {
            _ = try BatchLoader(dataset: empty, batchSize: 0, shuffle: true, seed: 0)
        }
        expectDataError(containing: ["prefetch"]) { _ = try BatchLoader(dataset: empty, batchSize: 1, shuffle: true, seed: 0, prefetch: 0) }
    }

    @Test("the producer runs ahead on another thread, at most `prefetch` batches")
    func producerRunsAhead() throws {
        let loader = try BatchLoader(dataset: try Self.samples(50), batchSize: 1, shuffle: false, seed: 0, prefetch: 3)
        let iterator = loader.batches(epoch: 0).makeIterator()
        // Without any call to next(), the background thread fills the queue and then waits.
        let deadline = Date().addingTimeInterval(10)
        while iterator.queuedBatchCount < 3 && Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
        #expect(iterator.queuedBatchCount == 3)
        Thread.sleep(forTimeInterval: 0.05)
        #expect(iterator.queuedBatchCount == 3)
        #expect(!iterator.producerHasExited)
        iterator.stop()
        #expect(iterator.producerHasExited)
    }

    @Test("stopping early or dropping the iterator ends the producer thread without hanging")
    func earlyStop() throws {
        let loader = try BatchLoader(dataset: try Self.samples(1000), batchSize: 3, shuffle: true, seed: 5, prefetch: 2)
        // stop() returns only once the thread has exited.
        let iterator = loader.batches(epoch: 0).makeIterator()
        #expect(iterator.next()?.count == 3)
        iterator.stop()
        #expect(iterator.producerHasExited)
        #expect(iterator.next() == nil)

        // `break` out of a for-in loop drops the iterator; its producer exits on its own.
        weak var queue: BatchQueue?
        do {
            var iterator: BatchIterator? = loader.batches(epoch: 1).makeIterator()
            queue = iterator?.queueForTesting
            _ = iterator?.next()
            iterator = nil
        }
        let deadline = Date().addingTimeInterval(10)
        while queue != nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
        #expect(queue == nil, "the producer thread should release its queue when it exits")

        var taken = 0
        for batch in loader.batches(epoch: 2) {
            taken += batch.count
            if taken >= 9 { break }
        }
        #expect(taken == 9)
    }
}
