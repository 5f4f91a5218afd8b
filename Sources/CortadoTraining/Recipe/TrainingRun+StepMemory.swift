extension TrainingRun {
    /// The estimated memory of one training step of `model` on `data` (its sample shape,
    /// vocabulary or BERT architecture, the widths a pruned checkpoint records), the data set
    /// itself counted as already resident.
    static func stepMemory(model: BuiltinModel, data: TrainingData, train: Dataset, outputs: Int, widths: [Int]?) throws -> StepMemory {
        let profile: ActivationProfile
        if model.readsWordPieces {
            guard let bert = data.bert, let length = train.sampleShape.first else {
                throw TrainingError.invalidOption("a bert-classifier run has no BERT architecture or sequence length")
            }
            profile = ActivationProfile(bert: bert.architecture, length: length, outputs: outputs)
        } else {
            profile = try ActivationProfile(
                model: model, sampleShape: train.sampleShape, outputs: outputs, vocabulary: data.tokenizer?.vocabularySize,
                widths: widths)
        }
        let resident = 4 * Double(data.split.train.features.count + data.split.test.features.count)
        return StepMemory.training(profile, residentBytes: resident)
    }

    /// Throws naming `--batch-size` when a training step at the batch the loader forms does not
    /// fit in the memory budget (or `device`'s global memory), before the first step allocates.
    static func requireStepMemory(
        model: BuiltinModel, data: TrainingData, train: Dataset, outputs: Int, widths: [Int]?, batchSize: Int, device: Device?
    ) throws {
        let step = try stepMemory(model: model, data: data, train: train, outputs: outputs, widths: widths)
        try MemoryBudget.requireBatch(
            step, batchSize: batchSize, samples: train.count, what: "a training step of \(model.rawValue)", device: device)
    }
}
