import Foundation

/// What a model learns to predict.
public enum Task: String, Sendable, Codable {
    /// Class labels, trained with cross-entropy on one logit per class.
    case classification
    /// Two classes, trained with binary cross-entropy on one logit (the positive class is 1).
    case binaryClassification = "binary-classification"
    /// Real values, trained with mean squared error.
    case regression

    /// The model outputs for `classes` classes (1 for binary classification and regression).
    public func outputs(classes: Int?) -> Int {
        switch self {
        case .classification: return classes ?? 1
        case .binaryClassification, .regression: return 1
        }
    }
}

/// What the training loop reports after each epoch.
public struct EpochReport: Sendable, Codable, Equatable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Mean training loss over the epoch's samples.
    public var trainLoss: Double
    /// Mean loss on the test set.
    public var testLoss: Double
    /// Fraction of test samples classified correctly (`nil` for regression).
    public var testAccuracy: Double?
    /// Precision of the positive class (binary classification only).
    public var testPrecision: Double?
    /// Recall of the positive class (binary classification only).
    public var testRecall: Double?
    /// F1 score of the positive class (binary classification only).
    public var testF1: Double?
    /// Seconds spent training (excluding evaluation).
    public var seconds: Double
    /// Training samples per second.
    public var samplesPerSecond: Double
    /// The device's id.
    public var device: String
    /// The learning rate at the end of the epoch.
    public var learningRate: Double
    /// Optimizer steps taken so far.
    public var steps: Int
    /// Data-parallel runs: the number of ranks.
    public var ranks: Int?
    /// Data-parallel runs: each rank's samples of a full global batch at the end of the epoch.
    public var batchShares: [Int]?
    /// The precision of the forward and backward passes (`fp32`, `bf16`, `fp16`).
    public var precision: String?
    /// fp16: the loss scale at the end of the epoch.
    public var lossScale: Double?
    /// fp16: steps skipped so far because a gradient overflowed.
    public var skippedSteps: Int?
    /// The most device memory held at once during the epoch's training, as the caching
    /// allocator counts it (buffers in use, not its cache).
    public var peakDeviceBytes: Int?

    /// Creates a report.
    public init(
        epoch: Int, trainLoss: Double, evaluation: Evaluation, seconds: Double, samplesPerSecond: Double,
        device: String, learningRate: Double, steps: Int
    ) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.testLoss = evaluation.loss
        self.testAccuracy = evaluation.accuracy
        self.testPrecision = evaluation.precision
        self.testRecall = evaluation.recall
        self.testF1 = evaluation.f1
        self.seconds = seconds
        self.samplesPerSecond = samplesPerSecond
        self.device = device
        self.learningRate = learningRate
        self.steps = steps
    }

    /// JSON keys (`train_loss`, `test_accuracy`, …).
    enum CodingKeys: String, CodingKey {
        case epoch, seconds, device, steps
        case trainLoss = "train_loss", testLoss = "test_loss", testAccuracy = "test_accuracy"
        case testPrecision = "test_precision", testRecall = "test_recall", testF1 = "test_f1"
        case samplesPerSecond = "samples_per_sec", learningRate = "learning_rate"
        case ranks, batchShares = "batch_shares"
        case precision, lossScale = "loss_scale", skippedSteps = "skipped_steps", peakDeviceBytes = "peak_device_bytes"
    }
}

/// Progress within an epoch, reported whenever the loop reads the loss back.
public struct TrainingProgress: Sendable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Batches done in this epoch.
    public var batch: Int
    /// Batches in this epoch.
    public var batches: Int
    /// Mean loss of the batches read since the last report.
    public var recentLoss: Double
    /// Training samples per second so far in this epoch.
    public var samplesPerSecond: Double
    /// Seconds since the epoch began.
    public var elapsed: Double
}

/// Loss and accuracy over a data set.
public struct Evaluation: Sendable, Equatable {
    /// Mean loss.
    public var loss: Double
    /// Fraction classified correctly (`nil` for regression).
    public var accuracy: Double?
    /// Samples evaluated.
    public var count: Int
    /// Precision of the positive class: true positives over predicted positives (binary only).
    public var precision: Double?
    /// Recall of the positive class: true positives over actual positives (binary only).
    public var recall: Double?
    /// F1 score of the positive class, the harmonic mean of precision and recall (binary only).
    public var f1: Double?

    /// Creates an evaluation; `precision`, `recall` and `f1` come from ``positiveClassScores(truePositives:falsePositives:falseNegatives:)``.
    public init(loss: Double, accuracy: Double?, count: Int, precision: Double? = nil, recall: Double? = nil, f1: Double? = nil) {
        self.loss = loss
        self.accuracy = accuracy
        self.count = count
        self.precision = precision
        self.recall = recall
        self.f1 = f1
    }

    /// Precision, recall and F1 of the positive class (0 where a ratio has no denominator).
    public static func positiveClassScores(
        truePositives: Int, falsePositives: Int, falseNegatives: Int
    ) -> (precision: Double, recall: Double, f1: Double) {
        let precision = truePositives + falsePositives > 0 ? Double(truePositives) / Double(truePositives + falsePositives) : 0
        let recall = truePositives + falseNegatives > 0 ? Double(truePositives) / Double(truePositives + falseNegatives) : 0
        let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        return (precision, recall, f1)
    }
}

/// Why a training run stopped early.
public enum TrainingError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The loss became NaN or infinite at a step (1-based, counted over the whole run).
    case nonFiniteLoss(step: Int, epoch: Int, value: Float)
    /// The data does not fit the model or task.
    case incompatibleData(String)
    /// An option (a flag of `cortado train`) is out of range or does not fit the others.
    case invalidOption(String)

    /// A message for the user.
    public var description: String {
        switch self {
        case let .nonFiniteLoss(step, epoch, value):
            return "the loss became \(value) at step \(step) (epoch \(epoch)); training stopped without saving. "
                + "Try a lower --lr, or check the data for NaN or huge values"
        case let .incompatibleData(message), let .invalidOption(message):
            return message
        }
    }

    /// The message, for code that reads `localizedDescription`.
    public var errorDescription: String? { description }
}
