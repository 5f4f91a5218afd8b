extension MemoryBudget {
    /// Throws naming `--batch-size` when evaluating (a pass without gradients) the model that
    /// `configuration` describes over `samples` samples in batches of `batchSize` does not fit in
    /// the budget (or `device`'s global memory); `residentBytes` are already in memory (the data).
    public static func requireEvaluation(
        configuration: CheckpointConfiguration, batchSize: Int, samples: Int, residentBytes: Double = 0, device: Device?
    ) throws {
        let step = StepMemory.inference(try ActivationProfile(configuration: configuration), residentBytes: residentBytes)
        try requireBatch(step, batchSize: batchSize, samples: samples, what: "evaluating \(configuration.model.rawValue)", device: device)
    }
}

extension SentenceEncoder {
    /// Throws naming `--batch-size` when ``embed(encodings:batchSize:)`` of `encodings` in batches
    /// of `batchSize` would not fit in the memory budget (or the device's global memory). The first
    /// batch is the largest: texts are embedded longest first, each batch padded to its longest.
    public func requireMemory(embedding encodings: [WordPieceEncoding], batchSize: Int) throws {
        let longest = encodings.map(\.ids.count).max() ?? 0
        let step = StepMemory.inference(ActivationProfile(bert: model.architecture, length: max(longest, 1), outputs: 0))
        try MemoryBudget.requireBatch(
            step, batchSize: batchSize, samples: encodings.count, what: "embedding texts of up to \(longest) tokens", device: device)
    }
}
