import Foundation

extension TrainingRun {
    /// Runs `probe` on training steps of throwaway copies of the run's model: built from a generator
    /// of their own on each candidate, with the run's optimizer, batch size and precision, on the
    /// first batch of the training data in file order. The run's own model, generator and loader
    /// are untouched.
    static func probeDevices(
        _ probe: DeviceProbe, options: TrainingOptions, settings: RunHyperparameters, model kind: BuiltinModel,
        data: TrainingData, train: Dataset, outputs: Int, epochs: Int
    ) throws -> DeviceDecision {
        let batchSize = settings.batchSize
        let vocabulary = data.tokenizer?.vocabularySize
        let signature = "\(kind.rawValue) \(train.sampleShape) → \(outputs), vocabulary \(vocabulary.map(String.init) ?? "-"), "
            + "\(data.task.rawValue), \(settings.optimizer.rawValue)"
        let workload = DeviceWorkload(
            signature: signature, batch: batchSize, precision: options.precision.rawValue,
            runSamples: max(epochs, 1) * train.count)
        guard train.count > 0 else {
            throw TrainingError.invalidOption("--device auto: the training data has no samples to time a step on")
        }
        let loader = try BatchLoader(dataset: train, batchSize: batchSize, shuffle: false, seed: 0, prefetch: 1)
        let batch = loader.assembleBatch(Array(0..<min(batchSize, train.count))[...])
        return try probe.fastest(workload: workload) { device in
            let model = try kind.make(
                sampleShape: train.sampleShape, outputs: outputs, vocabulary: vocabulary, device: device,
                generator: RandomGenerator(seed: options.seed))
            let optimizer = try settings.makeOptimizer(for: model)
            let trainer = Trainer(
                model: model, optimizer: optimizer, schedule: LearningRateSchedule(base: settings.learningRate, shape: .constant),
                task: data.task, device: device, readsTokens: kind.readsTokens, precision: options.precision)
            model.train()
            return {
                try trainer.step(on: batch)
                return batch.count
            }
        }
    }
}
