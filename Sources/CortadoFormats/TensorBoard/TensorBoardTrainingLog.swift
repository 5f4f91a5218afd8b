import Foundation

/// What `cortado train --logdir DIR` writes to TensorBoard during a `TrainingRun`.
///
/// Per step (whenever the loop reads the losses back): `step/loss` and `step/learning_rate`.
/// Per epoch, at the epoch's last step: `epoch/train_loss`, `epoch/test_loss`, `epoch/test_accuracy`
/// (classification), `epoch/test_f1`, `epoch/test_precision`, `epoch/test_recall` (two classes),
/// `epoch/samples_per_sec`, `epoch/learning_rate`, `epoch/loss_scale` (fp16), `epoch/epoch`, and a
/// histogram of every parameter under `parameters/<name>`. The epoch values are those of the epoch's
/// `EpochReport` (the `--json` line).
public final class TensorBoardTrainingLog {
    /// The event file written.
    public let writer: TensorBoardWriter
    private let schedule: LearningRateSchedule

    /// Starts a new event file in `logDirectory`; steps' learning rates come from `schedule`.
    public init(logDirectory: URL, schedule: LearningRateSchedule) throws {
        writer = try TensorBoardWriter(logDirectory: logDirectory)
        self.schedule = schedule
    }

    /// Logs step `step`'s (1-based, counted over the run) mean training loss and learning rate.
    public func step(_ step: Int, loss: Double) throws {
        try writer.scalars(
            [("step/loss", loss), ("step/learning_rate", Double(schedule.rate(at: max(step - 1, 0))))], step: step)
    }

    /// Logs an epoch's report and the parameters' histograms, at the report's step count, and flushes.
    public func epoch(_ report: EpochReport, parameters: [(name: String, value: Tensor)]) throws {
        var values: [(tag: String, value: Double)] = [
            ("epoch/epoch", Double(report.epoch)), ("epoch/train_loss", report.trainLoss), ("epoch/test_loss", report.testLoss),
            ("epoch/samples_per_sec", report.samplesPerSecond), ("epoch/learning_rate", report.learningRate),
        ]
        let optional: [(String, Double?)] = [
            ("epoch/test_accuracy", report.testAccuracy), ("epoch/test_f1", report.testF1),
            ("epoch/test_precision", report.testPrecision), ("epoch/test_recall", report.testRecall),
            ("epoch/loss_scale", report.lossScale),
        ]
        values += optional.compactMap { tag, value in value.map { (tag, $0) } }
        try writer.scalars(values, step: report.steps)
        for (name, value) in parameters {
            try writer.histogram(tag: "parameters/\(name)", values: value.toArray(), step: report.steps)
        }
        try writer.flush()
    }

    /// Logs the epoch and the parameters of `run`'s model.
    public func epoch(_ report: EpochReport, of run: TrainingRun) throws {
        try epoch(report, parameters: run.model.namedParameters().map { ($0.name, $0.parameter.value) })
    }
}
