import Foundation

/// The epoch loop of a data-parallel run, with Horovod's and DDP's semantics: every rank walks the
/// same global batches (one shuffle per epoch from the shared seed) and computes its share of each
/// (``BatchShares``); the gradients are averaged over the ranks, weighted by share, while the
/// backward pass runs (``GradientReducer``), so every rank takes the same optimizer step as a single
/// process would with the global batch. Evaluation splits the test set between the ranks.
final class DataParallelLoop {
    let trainer: Trainer
    let communicator: any Communicator
    let reducer: GradientReducer
    let balance: BatchBalance
    /// The current split of each global batch.
    private(set) var shares: BatchShares
    /// Steps per window over which `--balance auto` measures each rank's speed.
    let measuredSteps: Int
    /// Whether `--balance auto` measures every window of the epoch, not just its first: when no
    /// rank overlaps its all-reduces with the backward pass, every step's compute time comes for
    /// free, and a rank slowed for a while (another process on its core) hands samples to the
    /// others within a window instead of setting the pace until the next epoch.
    let measuresContinuously: Bool
    /// The ranks' speeds behind the current shares, averaged over the windows measured so far.
    private var smoothedSpeeds: [Double]?

    init(trainer: Trainer, communicator: any Communicator, balance: BatchBalance, timeout: Double, batchesPerEpoch: Int) throws {
        self.trainer = trainer
        self.communicator = communicator
        self.balance = balance
        shares = BatchShares(ranks: communicator.size)
        measuredSteps = max(1, min(10, batchesPerEpoch / 4))
        let parameters = trainer.optimizer.parameters.map(\.parameter)
        reducer = try GradientReducer(
            parameters: parameters, device: trainer.device, communicator: communicator,
            plan: GradientBuckets(counts: parameters.map { $0.value.count }), timeout: timeout,
            overlaps: GradientReducer.overlaps(device: trainer.device, threads: Parallel.workers))
        // Every rank must rebalance at the same steps: they agree on whether any overlaps.
        let anyOverlaps = try communicator.allReduceMax([reducer.overlaps ? 1 : 0])[0] > 0
        measuresContinuously = balance == .auto && !anyOverlaps
    }

    /// Trains one epoch (1-based) of `loader`'s global batches, from batch `skipping` on (the
    /// batches an interrupted run already trained). `batchesDone` counts the skipped ones too.
    func trainEpoch(
        _ loader: BatchLoader, epoch: Int, skipping: Int = 0, shouldStop: () -> Bool, progress: (TrainingProgress) -> Void,
        stepLoss: (Int, Double) -> Void
    ) throws -> (loss: Double, samples: Int, seconds: Double, interrupted: Bool, shares: [Int], batchesDone: Int) {
        let model = trainer.model, optimizer = trainer.optimizer, rank = communicator.rank
        model.train()
        var lossSum = 0.0, samples = 0, recentSum = 0.0, recentSamples = 0, index = 0
        let skipping = min(max(skipping, 0), loader.batchesPerEpoch)
        var measuredSamples = 0, measuredSeconds = 0.0
        // The first step of a run compiles kernels and fills caches: not a fair measurement.
        let firstMeasured = optimizer.stepCount == 0 ? 1 : 0
        let batches = loader.batchesPerEpoch
        let start = DispatchTime.now().uptimeNanoseconds
        func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        var interrupted = false
        for batch in loader.batches(epoch: epoch - 1, skipping: skipping) {
            let stepStart = DispatchTime.now().uptimeNanoseconds
            let rows = shares.rows(of: batch.count, rank: rank)
            optimizer.learningRate = trainer.schedule.rate(at: optimizer.stepCount)
            model.zeroGrad()
            let stop = shouldStop()
            let measured = index >= firstMeasured && (measuresContinuously || index < firstMeasured + measuredSteps)
            reducer.measuring = balance == .auto && measured
            if rows.isEmpty {
                try reducer.beginStep(localCount: 0, globalCount: batch.count, loss: nil, stop: stop)
            } else {
                // The backward passes start from this rank's share of the global batch (the
                // reducer's weight), so the sum over ranks is the global batch's gradient.
                _ = try trainer.accumulateGradients(
                    batch, rows: rows, weight: Float(rows.count) / Float(batch.count),
                    beforeLastBackward: { loss in
                        try reducer.beginStep(localCount: rows.count, globalCount: batch.count, loss: loss, stop: stop)
                    },
                    leafGradientReady: reducer.gradientReady)
            }
            let step = try reducer.finishStep(stepStart: stepStart)
            guard step.loss.isFinite else {
                throw TrainingError.nonFiniteLoss(step: optimizer.stepCount + 1, epoch: epoch, value: Float(step.loss))
            }
            try trainer.applyStep()
            index += 1
            stepLoss(optimizer.stepCount, step.loss)
            lossSum += step.loss * Double(step.samples)
            recentSum += step.loss * Double(step.samples)
            samples += step.samples
            recentSamples += step.samples
            if balance == .auto && index > firstMeasured && (measuresContinuously || index <= firstMeasured + measuredSteps) {
                measuredSamples += rows.count
                measuredSeconds += step.computeSeconds
                if (index - firstMeasured) % measuredSteps == 0 {
                    try rebalance(samples: measuredSamples, seconds: measuredSeconds, batchSize: loader.batchSize)
                    (measuredSamples, measuredSeconds) = (0, 0)
                }
            }
            if index % trainer.lossReadInterval == 0 || skipping + index == batches || step.stop {
                let elapsed = seconds()
                progress(TrainingProgress(
                    epoch: epoch, batch: skipping + index, batches: batches, recentLoss: recentSum / Double(max(recentSamples, 1)),
                    samplesPerSecond: Double(samples) / max(elapsed, 1e-9), elapsed: elapsed))
                recentSum = 0
                recentSamples = 0
            }
            if step.stop {
                interrupted = true
                break
            }
        }
        // Every rank reports the slowest rank's time, so samples/s is the job's.
        let elapsed = try communicator.allReduceMax([seconds()])[0]
        return (lossSum / Double(max(samples, 1)), samples, elapsed, interrupted, shares.split(loader.batchSize), skipping + index)
    }

    /// `--balance auto`: gives each rank a share of the global batch proportional to its measured
    /// speed (samples per second of computing, not counting the wait for the others).
    /// In a trace, each rebalance is a `rebalance` span (category `communicate`) naming the ranks'
    /// speeds and their new shares of a batch of `batchSize`.
    private func rebalance(samples: Int, seconds: Double, batchSize: Int) throws {
        guard balance == .auto else { return }
        var speeds = [Double](repeating: 0, count: communicator.size)
        speeds[communicator.rank] = seconds > 0 ? Double(samples) / seconds : 0
        let profiler = Profiler.current, start = profiler?.now() ?? 0
        var all = try communicator.allReduceSum(speeds)
        // Half the last window, half the earlier ones: a window's noise moves the shares half as
        // much, a lasting change takes over within a few windows. (Every rank holds the same
        // all-reduced values, so every rank computes the same shares.)
        if let smoothed = smoothedSpeeds, smoothed.allSatisfy({ $0 > 0 }) { all = zip(all, smoothed).map { ($0 + $1) / 2 } }
        if all.allSatisfy({ $0 > 0 }) {
            smoothedSpeeds = all
            shares = BatchShares(weights: all)
        }
        profiler?.record("rebalance", category: "communicate", since: start, arguments: [
            "samples_per_second": all.map { String(Int($0.rounded())) }.joined(separator: ","),
            "shares": shares.split(batchSize).map(String.init).joined(separator: ","),
        ])
    }

    /// The test loss and accuracy over `dataset`, each rank evaluating a contiguous part, and
    /// whether any rank was asked to stop meanwhile (`mpirun` gives its ranks one second between
    /// SIGTERM and SIGKILL, so a stop does not wait for the evaluation to finish).
    func evaluate(_ dataset: Dataset, shouldStop: () -> Bool) throws -> (evaluation: Evaluation, stop: Bool) {
        let size = communicator.size, rank = communicator.rank
        let part = (dataset.count * rank / size)..<(dataset.count * (rank + 1) / size)
        let totals = try trainer.evaluationTotals(dataset.selecting(part), shouldStop: shouldStop)
        let reduced = try communicator.allReduceSum(totals.values + [shouldStop() ? 1 : 0])
        return (EvaluationTotals(values: reduced).evaluation(task: trainer.task), reduced[reduced.count - 1] > 0)
    }
}
