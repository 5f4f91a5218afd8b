import Foundation

/// What a model learns to predict.
public enum Task: String, Sendable, Codable {
    /// Class labels, trained with cross-entropy on logits.
    case classification
    /// Real values, trained with mean squared error.
    case regression
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

    /// Creates a report.
    public init(
        epoch: Int, trainLoss: Double, testLoss: Double, testAccuracy: Double?, seconds: Double, samplesPerSecond: Double,
        device: String, learningRate: Double, steps: Int
    ) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.testLoss = testLoss
        self.testAccuracy = testAccuracy
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
        case samplesPerSecond = "samples_per_sec", learningRate = "learning_rate"
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
}

/// Why a training run stopped early.
public enum TrainingError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The loss became NaN or infinite at a step (1-based, counted over the whole run).
    case nonFiniteLoss(step: Int, epoch: Int, value: Float)
    /// The data does not fit the model or task.
    case incompatibleData(String)

    /// A message for the user.
    public var description: String {
        switch self {
        case let .nonFiniteLoss(step, epoch, value):
            return "the loss became \(value) at step \(step) (epoch \(epoch)); training stopped without saving. "
                + "Try a lower --lr, or check the data for NaN or huge values"
        case let .incompatibleData(message):
            return message
        }
    }

    /// The message, for code that reads `localizedDescription`.
    public var errorDescription: String? { description }
}
