@testable import CortadoTraining
import Foundation
import Testing

@Suite("Data-parallel parts")
struct DataParallelPartsTests {
    @Test("batch shares sum to the batch, follow the weights by largest remainder, and give every rank a sample")
    func shares() {
        let even = BatchShares(ranks: 3)
        #expect(even.split(64) == [22, 21, 21])
        #expect(even.split(2) == [1, 1, 0])
        #expect(even.rows(of: 64, rank: 2) == 43..<64)
        let weighted = BatchShares(weights: [1, 3])
        #expect(weighted.split(64) == [16, 48])
        #expect(weighted.split(5) == [1, 4])
        let lopsided = BatchShares(weights: [1000, 1])
        #expect(lopsided.split(64) == [63, 1])
        #expect(BatchShares(weights: [2, .nan, 0]).weights == [2, 2, 2])
    }

    @Test("gradient buckets run in reverse parameter order: a first bucket of 1 MB, then up to 25 MB")
    func buckets() {
        let counts = [100, 300_000, 64, 10, 7_000_000, 5]
        let plan = GradientBuckets(counts: counts)
        #expect(plan.buckets.map { $0.entries.map(\.parameter) } == [[5, 4], [3, 2, 1, 0]])
        // The largest gradient of each bucket sits at offset 0 of its memory.
        #expect(plan.buckets[0].entries.map(\.offset) == [7_000_000, 0])
        #expect(plan.buckets[1].entries.map(\.offset) == [300_000, 300_010, 0, 300_074])
        #expect(plan.bucketOfParameter == [1, 1, 1, 1, 0, 0])
        #expect(plan.buckets.map(\.count) == [7_000_005, 300_174])
        let small = GradientBuckets(counts: [10, 20, 300_000, 1], firstBucketBytes: 1 << 20, bucketBytes: 400)
        #expect(small.buckets.map { $0.entries.map(\.parameter) } == [[3, 2], [1, 0]])
    }

    @Test("--device gives each rank its device: one for all, a list, or auto for the GPU of its local rank")
    func rankDevices() throws {
        #expect(try RankDevice.spec("cpu", rank: 1, size: 2, localRank: 1, gpus: 0) == "cpu")
        #expect(try RankDevice.spec("gpu:0, cpu", rank: 1, size: 2, localRank: 1, gpus: 1) == "cpu")
        #expect(try RankDevice.spec("auto", rank: 3, size: 4, localRank: 1, gpus: 2) == "gpu:1")
        #expect(try RankDevice.spec("auto", rank: 2, size: 4, localRank: 2, gpus: 2) == "gpu:0")
        #expect(try RankDevice.spec("auto", rank: 1, size: 2, localRank: 1, gpus: 0) == "auto")
        #expect(try RankDevice.spec("auto", rank: 0, size: 1, localRank: 0, gpus: 3) == "auto")
        #expect(throws: DistributedError.self) { try RankDevice.spec("cpu,cpu,cpu", rank: 0, size: 2, localRank: 0, gpus: 0) }
    }

    @Test("a batch's rows form a batch of their own")
    func batchRows() throws {
        let dataset = try Dataset(features: (0..<12).map(Float.init), sampleShape: [2], targets: .classes(labels: [0, 1, 2, 0, 1, 2], classCount: 3))
        let batch = try #require(try BatchLoader(dataset: dataset, batchSize: 6, shuffle: false, seed: 0).batches(epoch: 0).makeIterator().next())
        let rows = batch.rows(2..<5)
        #expect(rows.inputs == [4, 5, 6, 7, 8, 9] && rows.inputShape == [3, 2] && rows.labels == [2, 0, 1])
        #expect(rows.count == 3 && rows.sampleIndices == [2, 3, 4])
    }

    @Test("ranks sharing a machine divide its cores unless the launcher bound them")
    func threadDefaults() {
        #expect(CPUThreads.defaultCount(localRanks: 1) == CPUThreads.allowedCores)
        if CPUThreads.allowedCores == CPUThreads.machineCores {
            #expect(CPUThreads.defaultCount(localRanks: 2) == max(CPUThreads.machineCores / 2, 1))
        }
    }

    @Test("--threads and CORTADO_NUM_THREADS set OpenBLAS's threads for any command; 0 is refused")
    func threadsFlag() throws {
        let flag = try Cortado.run(["devices", "--threads", "1"])
        #expect(flag.status == 0 && flag.stdout.contains("BLAS threads      1"), "\(flag.stdout)")
        let variable = try Cortado.run(["devices"], environment: ["CORTADO_NUM_THREADS": "1"])
        #expect(variable.stdout.contains("BLAS threads      1"), "\(variable.stdout)")
        let openCL = flag.stdout.components(separatedBy: "\nopencl:0").dropFirst().first ?? ""
        #expect(openCL.contains("compute units     1 "), "PoCL's threads: \(openCL)")
        expectFailure(try Cortado.run(["devices", "--threads", "0"]), mentioning: ["--threads"])
        expectFailure(try Cortado.run(["devices"], environment: ["CORTADO_NUM_THREADS": "many"]), mentioning: ["CORTADO_NUM_THREADS"])
    }

    @Test("rank 0's parameters and optimizer state reach every rank at start", arguments: [Device.cpu, TestDevices.openCL])
    func broadcastState(device: Device) throws {
        let data = try TemporaryDirectory()
        try writeMNISTDirectory(data, trainLabels: [0, 1, 2, 1, 0, 2, 1, 0], testLabels: [2, 0, 1])
        var options = TrainingOptions()
        options.model = .mlp
        options.data = data.path
        options.batchSize = 4
        let wire = Loopback.Wire()
        let zero = try TrainingRun(options: options, device: device, communicator: Loopback(rank: 0, wire: wire))
        _ = try zero.run()  // trained: weights and Adam moments differ from a fresh run's
        options.seed = 99
        options.learningRate = 0.01
        let one = try TrainingRun(options: options, device: device, communicator: Loopback(rank: 1, wire: wire))
        _ = try one.run()  // other weights and moments of the same shapes
        try zero.broadcastState()
        try one.broadcastState()
        #expect(wire.messages.count == 0)
        let sent = zero.model.stateTensors() + zero.optimizer.stateTensors()
        let received = one.model.stateTensors() + one.optimizer.stateTensors()
        #expect(sent.count == 12 && received.map(\.name) == sent.map(\.name))
        for ((name, sent), (_, received)) in zip(sent, received) {
            assertClose(try received.toArray(), try sent.toArray(), rtol: 0, atol: 0, name)
        }
    }
}

/// Two ranks in one process, for operations that only rank 0 sends: rank 0's broadcasts are
/// queued and rank 1's take them in order.
final class Loopback: Communicator, @unchecked Sendable {
    final class Wire: @unchecked Sendable {
        var messages: [[UInt8]] = []
    }

    let rank: Int
    let size = 2
    var localRank: Int { rank }
    let localSize = 2
    let wire: Wire

    init(rank: Int, wire: Wire) {
        self.rank = rank
        self.wire = wire
    }

    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {}
    func allReduceMax(_ values: UnsafeMutableBufferPointer<Double>) throws {}
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { [bytes, bytes] }
    func abort(_ message: String, code: Int32) -> Never { fatalError(message) }

    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {
        if rank == root {
            wire.messages.append(Array(bytes))
        } else {
            let message = wire.messages.removeFirst()
            precondition(message.count == bytes.count, "broadcast sizes differ")
            bytes.copyBytes(from: message)
        }
    }
}
