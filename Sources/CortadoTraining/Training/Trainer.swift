import Foundation

/// Trains a model on batches and evaluates it.
///
/// A step uploads the batch (without waiting), runs forward and backward, and applies one fused
/// optimizer kernel per parameter. The loss stays on the device: each step copies it into a slot of
/// a small ring buffer, which is read back only every ``lossReadInterval`` steps (and at the end of
/// the epoch), so a steady step never waits for the device. A NaN or infinite loss is then reported
/// with the exact step where it appeared.
public final class Trainer {
    /// The model being trained.
    public let model: any Module
    /// Its optimizer.
    public let optimizer: any Optimizer
    /// The learning rate per step.
    public let schedule: LearningRateSchedule
    /// Classification or regression.
    public let task: Task
    /// Where training runs.
    public let device: Device
    /// Called after every optimizer step that was taken (not after fp16 steps skipped for an
    /// overflow): e.g. to re-apply the fixed masks of a pruned model while it is fine-tuned.
    public var stepTaken: (() throws -> Void)?
    /// When set, training steps also learn this teacher's outputs (``Distillation``); evaluations
    /// do not.
    public var distillation: Distillation?
    /// Steps between reads of the losses (and progress reports).
    public var lossReadInterval: Int
    /// Whether the model reads token ids (the batch's inputs are passed as `int32`).
    public let readsTokens: Bool
    /// For a ``MaskedSequenceModule`` reading WordPiece ids: the padding id. Each batch is then cut
    /// back to its longest row and the model gets the ids and their mask.
    public let paddingId: Int32?

    /// The most rows of a step's batch that one forward and backward pass computes (`nil`: all of
    /// them at once). The passes' gradients add up before the update, so the step is the same up
    /// to summation order with less activation memory: DeepSpeed's micro-batches (Caffe's
    /// `iter_size` and Horovod's `backward_passes_per_step` accumulate the same way). Random draws
    /// per sample (``Dropout``) follow the whole batch (``BatchShard``); a layer with batch
    /// statistics (``BatchNorm``) sees each pass's rows.
    public var microBatch: Int?
    /// During a step computed in parts (micro-batches, a rank's share) of WordPiece rows: the whole
    /// batch's longest row, to which every part pads (``Batch/wordPieceTensors(paddingId:device:length:)``).
    private var stepRowLength: Int?

    /// The precision of the forward and backward passes (the model's parameters stay float32).
    public let precision: Precision
    /// fp16's dynamic loss scaling (`nil` in other precisions).
    public let lossScaler: LossScaler?

    /// Creates a trainer; the model must already be on `device`.
    /// - Parameter precision: `fp32`, or mixed precision: layers compute in bfloat16 or float16
    ///   (``withComputeType(_:_:)``), losses in float32; `fp16` scales the loss (``LossScaler``).
    public init(
        model: any Module, optimizer: any Optimizer, schedule: LearningRateSchedule, task: Task, device: Device,
        lossReadInterval: Int = 25, readsTokens: Bool = false, paddingId: Int32? = nil, precision: Precision = .fp32
    ) {
        self.precision = precision
        self.lossScaler = precision == .fp16 ? try? LossScaler() : nil
        self.paddingId = paddingId
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.task = task
        self.device = device
        self.lossReadInterval = max(lossReadInterval, 1)
        self.readsTokens = readsTokens
    }

    /// The loss of a batch (a one-element tensor) and the model's output (logits for classification).
    public func loss(on batch: Batch) throws -> (loss: Tensor, output: Tensor) {
        let output = try forward(batch)
        if task == .binaryClassification {
            guard let labels = batch.labels, output.shape == [batch.count, 1] else {
                throw TrainingError.incompatibleData("binary classification needs class labels and one output per sample; got outputs \(output.shape)")
            }
            let targets = try Tensor(labels.map(Float.init), shape: [batch.count, 1], device: device)
            return (try Losses.binaryCrossEntropy(logits: output, targets: targets), output)
        }
        let targets = try batch.targetTensor(device: device)
        switch task {
        case .classification:
            guard output.rank == 2, targets.dtype == .int32 else {
                throw TrainingError.incompatibleData("classification needs class labels and [batch, classes] outputs; got outputs \(output.shape)")
            }
            return (try Losses.crossEntropy(logits: output, labels: targets), output)
        case .regression:
            guard targets.dtype == .float32, output.shape == targets.shape else {
                throw TrainingError.incompatibleData("regression needs real-valued targets \(targets.shape) matching the outputs \(output.shape)")
            }
            return (try Losses.meanSquaredError(output, targets), output)
        case .binaryClassification:
            preconditionFailure("handled above")
        }
    }

    /// The loss a training step minimises: ``loss(on:)``, blended with the teacher's term when
    /// ``distillation`` is set.
    func trainingLoss(on batch: Batch) throws -> Tensor {
        let (loss, output) = try loss(on: batch)
        guard let distillation else { return loss }
        distillation.teacher.eval()
        let teacherOutput = try withNoGrad { try forward(batch, model: distillation.teacher) }
        return try distillation.loss(hard: loss, output: output, teacherOutput: teacherOutput, task: task)
    }

    /// `model`'s output for `batch` (features, token ids, or WordPiece ids with their mask), its
    /// layers computing in the trainer's precision.
    private func forward(_ batch: Batch, model: (any Module)? = nil) throws -> Tensor {
        try withComputeType(precision.computeType) { try forwardInComputeType(batch, model: model ?? self.model) }
    }

    private func forwardInComputeType(_ batch: Batch, model: any Module) throws -> Tensor {
        if let paddingId {
            guard let masked = model as? any MaskedSequenceModule else {
                throw TrainingError.incompatibleData("the model does not take a padding mask, so it cannot read WordPiece batches")
            }
            let (ids, mask) = try batch.wordPieceTensors(paddingId: paddingId, device: device, length: stepRowLength)
            return try masked(ids, mask: mask)
        }
        return try model(readsTokens ? batch.indexTensor(device: device) : batch.inputTensor(device: device))
    }

    /// The predicted class of each sample of a classification output (logit > 0 for binary).
    public func predictedClasses(_ output: Tensor) throws -> [Int32] {
        switch task {
        case .classification: return try output.argmax(axis: 1).toIntArray()
        case .binaryClassification: return try output.toArray().map { $0 > 0 ? 1 : 0 }
        case .regression: return []
        }
    }

    /// Trains one epoch over `loader`'s batches (`epoch` is 1-based).
    /// - Parameters:
    ///   - skipping: batches at the start of the epoch to leave out (those an interrupted run
    ///     trained before it was saved).
    ///   - shouldStop: checked after every step; when it returns true the epoch ends early.
    ///   - progress: called after every read of the losses.
    ///   - stepLoss: called after every read of the losses with each step read (its number, counted
    ///     over the whole run, and its mean loss).
    /// - Returns: the mean training loss, samples seen, seconds, and whether it stopped early.
    public func trainEpoch(
        _ loader: BatchLoader, epoch: Int, skipping: Int = 0, shouldStop: () -> Bool = { false },
        progress: (TrainingProgress) -> Void = { _ in }, stepLoss: (Int, Double) -> Void = { _, _ in }
    ) throws -> (loss: Double, samples: Int, seconds: Double, interrupted: Bool) {
        model.train()
        let ring = try Tensor.zeros([lossReadInterval], device: device)
        // The batches whose losses sit in the ring: their samples and step numbers (counted over
        // the run, skipped fp16 steps included).
        var pending: [(count: Int, step: Int)] = []
        var attempted = attemptedSteps
        var lossSum = 0.0, samples = 0, recentSum = 0.0, recentSamples = 0
        let batches = loader.batchesPerEpoch
        let start = DispatchTime.now().uptimeNanoseconds
        func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

        func readRing(batch: Int) throws {
            guard !pending.isEmpty else { return }
            let losses = try ring.toArray()
            for (slot, (count, step)) in pending.enumerated() {
                let value = losses[slot]
                guard value.isFinite else {
                    throw TrainingError.nonFiniteLoss(step: step, epoch: epoch, value: value)
                }
                stepLoss(step, Double(value))
                lossSum += Double(value) * Double(count)
                recentSum += Double(value) * Double(count)
                samples += count
                recentSamples += count
            }
            pending.removeAll(keepingCapacity: true)
            let elapsed = seconds()
            progress(TrainingProgress(
                epoch: epoch, batch: batch, batches: batches, recentLoss: recentSum / Double(max(recentSamples, 1)),
                samplesPerSecond: Double(samples) / max(elapsed, 1e-9), elapsed: elapsed))
            recentSum = 0
            recentSamples = 0
        }

        var interrupted = false
        var index = max(skipping, 0)
        for batch in loader.batches(epoch: epoch - 1, skipping: skipping) {
            try profiled("step", category: "train", arguments: ["epoch": "\(epoch)", "step": "\(attempted + 1)"]) {
                let loss = try step(on: batch)
                attempted += 1
                try loss.copyElement(to: ring, at: pending.count)
                pending.append((batch.count, attempted))
                index += 1
                if pending.count == lossReadInterval { try profiled("read losses", category: "train") { try readRing(batch: index) } }
            }
            if shouldStop() {
                interrupted = true
                break
            }
        }
        try readRing(batch: index)
        return (lossSum / Double(max(samples, 1)), samples, seconds(), interrupted)
    }

    /// One training step on `batch` (learning rate from the schedule, forward, backward, optimizer
    /// step); returns the loss, still on the device.
    @discardableResult
    func step(on batch: Batch) throws -> Tensor {
        optimizer.learningRate = schedule.rate(at: optimizer.stepCount)
        model.zeroGrad()
        let loss = try accumulateGradients(batch, rows: 0..<batch.count, weight: 1)
        try profiled("optimizer", category: "train") { _ = try applyStep() }
        return loss
    }

    /// The forward and backward passes of a step over `rows` of the global batch `batch`, in passes
    /// of at most ``microBatch`` rows whose gradients add up in the leaves; each backward pass
    /// starts from `weight` times its share of `rows`. `beforeLastBackward` gets the mean loss over
    /// `rows` before the last backward pass, which reports each leaf to `leafGradientReady` as its
    /// gradient completes.
    /// - Returns: the mean loss over `rows`, on the device.
    func accumulateGradients(
        _ batch: Batch, rows: Range<Int>, weight: Float, beforeLastBackward: (Tensor) throws -> Void = { _ in },
        leafGradientReady: ((Tensor) throws -> Void)? = nil
    ) throws -> Tensor {
        let size = min(max(microBatch ?? rows.count, 1), max(rows.count, 1))
        let sharded = rows.count < batch.count || size < rows.count
        // WordPiece rows: every pass pads to the whole batch's longest row, as one pass would.
        stepRowLength = sharded ? paddingId.map { batch.longestWordPieceRow(paddingId: $0) } : nil
        defer { stepRowLength = nil }
        var total: Tensor?
        let draws = size < rows.count ? PassDraws() : nil
        for (pass, start) in stride(from: rows.lowerBound, to: rows.upperBound, by: size).enumerated() {
            let part = start..<min(start + size, rows.upperBound)
            let share = Float(part.count) / Float(rows.count)
            let shard = sharded ? BatchShard(offset: part.lowerBound, count: part.count, total: batch.count, pass: pass, draws: draws) : nil
            let loss = try profiled("forward", category: "train") {
                try BatchShard.withShard(shard) { try trainingLoss(on: batch.rows(part)) }
            }
            if part.count == rows.count {
                total = loss
            } else {
                let weighted = try withNoGrad { try loss.detached() * share }
                total = try total.map { sum in try withNoGrad { try sum + weighted } } ?? weighted
            }
            let last = part.upperBound == rows.upperBound
            if last, let total { try beforeLastBackward(total) }
            try profiled("backward", category: "train") {
                try loss.backward(gradient: try gradientSeed(like: loss, weight: weight * share), leafGradientReady: last ? leafGradientReady : nil)
            }
        }
        guard let total else { throw TrainingError.invalidOption("a training step needs at least one sample") }
        return total
    }

    /// Steps taken so far, fp16 steps skipped for an overflow included.
    var attemptedSteps: Int { optimizer.stepCount + (lossScaler?.skippedSteps ?? 0) }

    /// The gradient the backward pass starts from: 1, or fp16's loss scale (the loss scaled without
    /// another node in the graph). Made again only when the scale changes.
    func gradientSeed(like loss: Tensor, weight: Float = 1) throws -> Tensor {
        let value = weight * (lossScaler?.scale ?? 1)
        if let seed = seedCache[value], seed.shape == loss.shape, seed.dtype == loss.dtype, seed.device == loss.device {
            return seed
        }
        let tensor = try Tensor.full(loss.shape, value: value, dtype: loss.dtype, device: loss.device)
        // A step's passes use a few weights (micro-batches, a batch's last short pass), each kept.
        if seedCache.count >= 8 { seedCache.removeAll() }
        seedCache[value] = tensor
        return tensor
    }
    private var seedCache: [Float: Tensor] = [:]

    /// Takes the optimizer step after a backward pass; in fp16, unscales the gradients first, or
    /// skips the step when one overflowed (the scaler halves its scale). Returns whether it stepped.
    @discardableResult
    func applyStep() throws -> Bool {
        if let lossScaler, !(try lossScaler.unscale(optimizer.parameters.map(\.parameter))) { return false }
        try optimizer.step()
        try stepTaken?()
        return true
    }

    /// Mean loss and accuracy over `dataset`, in evaluation mode without gradients.
    public func evaluate(_ dataset: Dataset, batchSize: Int = 500) throws -> Evaluation {
        try evaluationTotals(dataset, batchSize: batchSize).evaluation(task: task)
    }

    /// The sums behind ``evaluate(_:batchSize:)`` (so ranks that each evaluate a part can add them);
    /// when `shouldStop` turns true between batches, the sums so far.
    func evaluationTotals(_ dataset: Dataset, batchSize: Int = 500, shouldStop: () -> Bool = { false }) throws -> EvaluationTotals {
        model.eval()
        defer { model.train() }
        var totals = EvaluationTotals()
        guard dataset.count > 0 else { return totals }
        let loader = try BatchLoader(dataset: dataset, batchSize: batchSize, shuffle: false, seed: 0)
        try withNoGrad {
            for (index, batch) in loader.batches(epoch: 0).enumerated() {
                if shouldStop() { break }
                try profiled("batch", category: "evaluate", arguments: ["batch": "\(index + 1)"]) {
                    let (loss, output) = try loss(on: batch)
                    totals.lossSum += Double(try loss.item()) * Double(batch.count)
                    totals.count += Double(batch.count)
                    guard task != .regression, let labels = batch.labels else { return }
                    for (predicted, label) in zip(try predictedClasses(output), labels) {
                        if predicted == label { totals.correct += 1 }
                        if predicted == 1 && label == 1 { totals.truePositives += 1 }
                        if predicted == 1 && label != 1 { totals.falsePositives += 1 }
                        if predicted != 1 && label == 1 { totals.falseNegatives += 1 }
                    }
                }
            }
        }
        return totals
    }
}

/// Sums over evaluated samples, which ranks add up before turning them into an ``Evaluation``.
struct EvaluationTotals {
    var lossSum = 0.0, count = 0.0, correct = 0.0
    var truePositives = 0.0, falsePositives = 0.0, falseNegatives = 0.0

    /// The sums in a fixed order, for an all-reduce.
    var values: [Double] { [lossSum, count, correct, truePositives, falsePositives, falseNegatives] }

    init() {}

    /// Totals from ``values``.
    init(values: [Double]) {
        (lossSum, count, correct) = (values[0], values[1], values[2])
        (truePositives, falsePositives, falseNegatives) = (values[3], values[4], values[5])
    }

    /// Means, accuracy and (binary) precision, recall and F1.
    func evaluation(task: Task) -> Evaluation {
        let total = max(count, 1)
        var evaluation = Evaluation(
            loss: lossSum / total, accuracy: task == .regression ? nil : correct / total, count: Int(count))
        if task == .binaryClassification {
            let scores = Evaluation.positiveClassScores(
                truePositives: Int(truePositives), falsePositives: Int(falsePositives), falseNegatives: Int(falseNegatives))
            (evaluation.precision, evaluation.recall, evaluation.f1) = (scores.precision, scores.recall, scores.f1)
        }
        return evaluation
    }
}
