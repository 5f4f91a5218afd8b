import CortadoTraining
import Foundation
import Testing

/// A small slice of the real Fashion-MNIST, loaded once; a missing data set fails each test that
/// reads it (with the loader's message) instead of stopping the whole run.
private let fashionSliceResult = Result<DatasetSplit, any Error> {
    let split = try DataSource.resolve("fashion-mnist").load(target: nil).split
    return DatasetSplit(train: split.train.prefix(512), test: split.test.prefix(256))
}

/// The slice, or the error that loading it raised.
private var fashionSlice: DatasetSplit {
    get throws { try fashionSliceResult.get() }
}

@Suite("Training loop and checkpoints")
struct TrainingTests {
    func makeTrainer(_ model: BuiltinModel, device: Device, seed: UInt64 = 7, readEvery: Int = 1) throws -> Trainer {
        let network = try model.make(sampleShape: [1, 28, 28], outputs: 10, device: device, generator: RandomGenerator(seed: seed))
        let optimizer = try Adam(network.trainableParameters(), learningRate: 1e-3)
        return Trainer(model: network, optimizer: optimizer, schedule: LearningRateSchedule(base: 1e-3),
                       task: .classification, device: device, lossReadInterval: readEvery)
    }

    @Test("the loss falls on a slice of Fashion-MNIST", arguments: [Device.cpu, TestDevices.openCL])
    func lossFalls(device: Device) throws {
        let trainer = try makeTrainer(.cnn, device: device)
        let loader = try BatchLoader(dataset: try fashionSlice.train, batchSize: 32, shuffle: true, seed: 1)
        let before = try trainer.evaluate(try fashionSlice.test).loss
        var losses: [Double] = []
        for epoch in 1...3 {
            losses.append(try trainer.trainEpoch(loader, epoch: epoch).loss)
        }
        let after = try trainer.evaluate(try fashionSlice.test)
        #expect(losses[2] < losses[0] * 0.8, "train losses \(losses)")
        #expect(after.loss < before * 0.7, "test loss \(before) → \(after.loss)")
        #expect((after.accuracy ?? 0) > 0.6, "test accuracy \(after.accuracy ?? 0)")
    }

    @Test("CPU and OpenCL follow the same losses step by step from the same seed")
    func backendsAgreeStepByStep() throws {
        func stepLosses(_ device: Device) throws -> [Double] {
            let trainer = try makeTrainer(.cnn, device: device)
            let loader = try BatchLoader(dataset: try fashionSlice.train.prefix(8 * 32), batchSize: 32, shuffle: true, seed: 3)
            var losses: [Double] = []
            _ = try trainer.trainEpoch(loader, epoch: 1, progress: { losses.append($0.recentLoss) })
            return losses
        }
        let cpu = try stepLosses(.cpu), openCL = try stepLosses(TestDevices.openCL)
        #expect(cpu.count == 8)
        assertClose(openCL.map(Float.init), cpu.map(Float.init), rtol: 2e-3, atol: 1e-4, "per-step losses")
    }

    @Test("a checkpoint reloads to identical outputs and parses with an independent reader", arguments: [Device.cpu, TestDevices.openCL])
    func checkpointRoundTrip(device: Device) throws {
        let trainer = try makeTrainer(.mlp, device: device)
        let loader = try BatchLoader(dataset: try fashionSlice.train.prefix(128), batchSize: 32, shuffle: true, seed: 1)
        _ = try trainer.trainEpoch(loader, epoch: 1)
        let directory = try TemporaryDirectory()
        let url = directory.fileURL("model.safetensors")
        let configuration = CheckpointConfiguration(
            model: .mlp, task: .classification, sampleShape: [1, 28, 28], outputs: 10, data: "fashion-mnist", targetColumn: nil,
            featureColumns: nil, standardization: nil, optimizer: trainer.optimizer.name,
            optimizerHyperparameters: trainer.optimizer.hyperparameters, schedule: trainer.schedule,
            steps: trainer.optimizer.stepCount, epochsCompleted: 1, batchSize: 32, seed: 7)
        try ModelCheckpoint.save(model: trainer.model, optimizer: trainer.optimizer, configuration: configuration, to: url)

        let loaded = try ModelCheckpoint(contentsOf: url)
        #expect(loaded.configuration == configuration)
        let restored = try loaded.makeModel(device: device)
        let x = try Tensor(Array(try fashionSlice.test.features.prefix(4 * 784)), shape: [4, 1, 28, 28], device: device)
        trainer.model.eval()
        restored.eval()
        #expect(try restored(x).toArray() == trainer.model(x).toArray())

        // Python's standard library reads the header and the first layer's bias.
        let bias = try (trainer.model as! Sequential).layers[1].parameters[1].parameter.value.toArray()
        let output = try runPython("""
            import json, struct, sys
            data = open(sys.argv[1], 'rb').read()
            (length,) = struct.unpack('<Q', data[:8])
            header = json.loads(data[8:8 + length])
            entry = header['model.1.bias']
            begin, end = entry['data_offsets']
            values = struct.unpack('<%df' % (entry['shape'][0]), data[8 + length + begin:8 + length + end])
            config = json.loads(header['__metadata__']['cortado.configuration'])
            print(entry['dtype'], entry['shape'], config['model'], repr(values[0]), repr(values[-1]))
            """, arguments: [url.path])
        let fields = output.split(separator: " ").map(String.init)
        #expect(fields[0] == "F32" && output.contains("[256]") && output.contains("mlp"), "python printed \(output)")
        #expect(Float(fields[fields.count - 2]) == bias.first && Float(fields.last!.trimmingCharacters(in: .whitespacesAndNewlines)) == bias.last)
    }

    @Test("resuming from a checkpoint continues exactly as an uninterrupted run")
    func resumeMatchesUninterrupted() throws {
        let loader = try BatchLoader(dataset: try fashionSlice.train.prefix(96), batchSize: 32, shuffle: true, seed: 5)
        let straight = try makeTrainer(.mlp, device: .cpu)
        for epoch in 1...2 { _ = try straight.trainEpoch(loader, epoch: epoch) }

        let first = try makeTrainer(.mlp, device: .cpu)
        _ = try first.trainEpoch(loader, epoch: 1)
        let directory = try TemporaryDirectory()
        let url = directory.fileURL("resume.safetensors")
        try ModelCheckpoint.save(model: first.model, optimizer: first.optimizer, configuration: CheckpointConfiguration(
            model: .mlp, task: .classification, sampleShape: [1, 28, 28], outputs: 10, data: "fashion-mnist", targetColumn: nil,
            featureColumns: nil, standardization: nil, optimizer: "adam", optimizerHyperparameters: [:], schedule: first.schedule,
            steps: first.optimizer.stepCount, epochsCompleted: 1, batchSize: 32, seed: 7), to: url)
        let checkpoint = try ModelCheckpoint(contentsOf: url)
        let model = try checkpoint.makeModel(device: .cpu)
        let optimizer = try Adam(model.trainableParameters(), learningRate: 1e-3)
        try checkpoint.restore(optimizer, device: .cpu)
        let resumed = Trainer(model: model, optimizer: optimizer, schedule: first.schedule, task: .classification, device: .cpu)
        _ = try resumed.trainEpoch(loader, epoch: 2)

        for ((name, a), (_, b)) in zip(straight.model.stateTensors(), resumed.model.stateTensors()) {
            #expect(try a.toArray() == b.toArray(), "\(name) differs after resuming")
        }
    }

    @Test("a NaN loss stops training with the step where it appeared", arguments: [Device.cpu, TestDevices.openCL])
    func nanLossStops(device: Device) throws {
        // Regression on values that overflow float32 when squared: the loss is infinite at once.
        let features = (0..<40).map { Float($0 % 7) }
        var targets = [Float](repeating: 1, count: 40)
        targets[17] = 3e38  // batch 3 (of 8 samples each) holds sample 17
        let data = try Dataset(features: features, sampleShape: [1], targets: .values(targets))
        let model = try BuiltinModel.linear.make(sampleShape: [1], outputs: 1, device: device, generator: RandomGenerator(seed: 1))
        let trainer = Trainer(model: model, optimizer: try SGD(model.trainableParameters(), learningRate: 1e-3),
                              schedule: LearningRateSchedule(base: 1e-3), task: .regression, device: device, lossReadInterval: 4)
        let loader = try BatchLoader(dataset: data, batchSize: 8, shuffle: false, seed: 0)
        #expect(throws: TrainingError.nonFiniteLoss(step: 3, epoch: 1, value: .infinity)) {
            _ = try trainer.trainEpoch(loader, epoch: 1)
        }
    }
}
