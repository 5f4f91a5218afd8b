import Foundation

extension ModelCheckpoint {
    /// The metadata key of the ``PruningRecord`` (JSON) of a pruned checkpoint.
    public static let pruningKey = "cortado.pruning"

    /// The pruning of a pruned checkpoint, `nil` for another.
    /// - Throws: ``CheckpointError`` when the record is present but unreadable.
    public func pruning() throws -> PruningRecord? {
        guard let json = file.metadata[Self.pruningKey] else { return nil }
        do {
            return try JSONDecoder().decode(PruningRecord.self, from: Data(json.utf8))
        } catch {
            throw CheckpointError(file.url, "metadata '\(Self.pruningKey)' cannot be read: \(error)")
        }
    }

    /// Prunes this (float) checkpoint's model as `options` say and writes it to `url` as an
    /// ordinary float32 checkpoint that `eval`, `predict`, `quantize` and `train --resume` read:
    /// unstructured pruning keeps the shapes with zeros in place of the pruned weights; structured
    /// pruning (``Pruning/structured(_:configuration:sparsity:norm:device:)``) writes the smaller
    /// model and configuration. The step count restarts at 0 and no optimizer state is kept; the
    /// ``PruningRecord`` is in the metadata under ``pruningKey``.
    ///
    /// With `options.fineTuneEpochs`, the pruned model then trains on the checkpoint's data with
    /// ``TrainingRun`` (the recorded optimizer, learning rate, batch size and seed, the model's
    /// default schedule), saving to `url` after each epoch; unstructured masks are re-applied after
    /// every optimizer step, so pruned weights stay zero. With `options.distillation`, the dense
    /// model is the teacher of those epochs (``Distillation``).
    ///
    /// - Parameters:
    ///   - device: where fine-tuning and its evaluations run (pruning itself reads the weights on the host).
    ///   - epochEnded: called with each fine-tuning epoch's report.
    /// - Throws: ``TrainingError`` for options out of range; ``CheckpointError`` when this
    ///   checkpoint is int8, when `url` is this checkpoint or cannot be written. Nothing is written then.
    @discardableResult
    public func writePruned(
        to url: URL, options: PruningOptions, device: Device = .cpu, epochEnded: (EpochReport) throws -> Void = { _ in }
    ) throws -> PruningReport {
        try options.validate()
        if let existing = try quantization() {
            throw CheckpointError(file.url, "is an int8 checkpoint (\(existing.scheme)); prune the float32 checkpoint it came from")
        }
        let sameFile = url.standardizedFileURL.resolvingSymlinksInPath() == file.url.standardizedFileURL.resolvingSymlinksInPath()
        guard !sameFile, !SavePath.sameFile(url.path, file.url.path, kind: .data) else {
            throw CheckpointError(url, "is the checkpoint being pruned; choose another --out")
        }
        try SafeTensors.checkWritable(url)
        let dense = try makeTrainedModel(device: .cpu)
        var record: PruningRecord
        var model: any Module
        var pruned = configuration
        var masks: PruningMasks?
        if options.structured {
            if options.norm == .taylor {
                let importance = try taylorImportance(options: options, device: device)
                (model, pruned, record) = try Pruning.structured(
                    dense, configuration: configuration, sparsity: options.sparsity, importance: importance, device: .cpu)
            } else {
                (model, pruned, record) = try Pruning.structured(
                    dense, configuration: configuration, sparsity: options.sparsity, norm: options.norm, device: .cpu)
            }
        } else {
            model = try makeTrainedModel(device: .cpu)
            let found = try Pruning.unstructured(model, sparsity: options.sparsity)
            masks = found
            var zeros = 0, total = 0
            for mask in found.masks.values {
                let values = try mask.toArray()
                total += values.count
                zeros += values.filter { $0 == 0 }.count
            }
            pruned.steps = 0
            pruned.epochsCompleted = 0
            pruned.stepsIntoEpoch = nil
            record = PruningRecord(
                method: "unstructured", sparsity: options.sparsity, norm: .l1, groups: [],
                prunedWeights: Pruning.prunableWeights(of: model), dense: ["biases", "normalisation weights", "embedding tables"],
                parametersBefore: dense.parameterCount, parametersAfter: model.parameterCount, zeroWeights: zeros,
                prunableWeights: total, fineTuneEpochs: 0)
        }
        record.fineTuneEpochs = options.fineTuneEpochs
        let metadata = [Self.pruningKey: try Self.encode(record)]
        var report = PruningReport(record: record)
        guard options.fineTuneEpochs > 0 else {
            try Self.save(model: model, optimizer: nil, configuration: pruned, to: url, metadata: metadata)
            return report
        }
        // Fine-tuning resumes the pruned model from a hidden file beside `url`, so that a failure
        // (the data cannot be read, an interruption) leaves `url` as it was.
        let destination = try CheckpointFileSystem.resolvedDestination(url)
        let start = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).pruned-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: start) }
        try Self.save(model: model, optimizer: nil, configuration: pruned, to: start, metadata: metadata)
        try fineTune(from: start, to: url, options: options, masks: masks, dense: dense, metadata: metadata, device: device,
                     report: &report, epochEnded: epochEnded)
        return report
    }

    /// `--norm taylor`: this checkpoint's model on `device` scores its units over the first
    /// `options.taylorBatches` training batches of its data (shuffled with its seed, in evaluation
    /// mode so dropout does not blur the scores).
    private func taylorImportance(options: PruningOptions, device: Device) throws -> [[Double]] {
        var training = TrainingOptions()
        training.resume = file.url.path
        training.limit = options.fineTuneLimit
        training.seed = configuration.seed
        training.epochs = configuration.epochsCompleted + 1  // a valid resume; the run never trains
        let run = try TrainingRun(options: training, device: device)
        run.model.eval()
        return try Pruning.taylorImportance(
            of: run.model, configuration: configuration, batches: run.loader.batches(epoch: 0).prefix(max(options.taylorBatches, 1)),
            loss: { try run.trainer.loss(on: $0).loss })
    }

    /// Trains the pruned checkpoint at `start` for `options.fineTuneEpochs` epochs, saving to `url`.
    private func fineTune(
        from start: URL, to url: URL, options: PruningOptions, masks: PruningMasks?, dense: any Module, metadata: [String: String],
        device: Device, report: inout PruningReport, epochEnded: (EpochReport) throws -> Void
    ) throws {
        let recorded = configuration
        var training = TrainingOptions()
        training.resume = start.path
        training.save = url.path
        training.epochs = options.fineTuneEpochs
        training.limit = options.fineTuneLimit
        training.learningRate = options.fineTuneLearningRate
        training.seed = recorded.seed
        // The optimizer, rate, decay and batch come from the checkpoint (as for any --resume); the
        // schedule starts afresh over the fine-tuning epochs, with the model's default shape.
        let defaults = TrainingDefaults(recorded.model)
        training.schedule = defaults.schedule
        training.warmup = defaults.warmup
        let run = try TrainingRun(options: training, device: device)
        run.checkpointMetadata = metadata
        if let masks {
            let onDevice = PruningMasks(masks: try masks.masks.mapValues { try $0.to(device) })
            run.trainer.stepTaken = { [model = run.model] in try onDevice.apply(to: model) }
        }
        try dense.move(to: device)
        let denseTrainer = Trainer(model: dense, optimizer: run.optimizer, schedule: run.schedule, task: run.data.task, device: device,
                                   readsTokens: run.modelKind.readsTokens, paddingId: run.data.wordPieces?.paddingId)
        report.denseAccuracy = try denseTrainer.evaluate(run.data.split.test).accuracy
        report.prunedAccuracy = try run.trainer.evaluate(run.data.split.test).accuracy
        if let settings = options.distillation { run.trainer.distillation = Distillation(teacher: dense, settings: settings) }
        var last: EpochReport?
        _ = try run.run(epochEnded: { epoch in
            last = epoch
            try epochEnded(epoch)
        })
        report.fineTunedAccuracy = last?.testAccuracy
    }

    /// The record as sorted-key JSON.
    static func encode(_ record: PruningRecord) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(record), as: UTF8.self)
    }
}
