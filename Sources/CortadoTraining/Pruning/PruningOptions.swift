import Foundation

/// The norm by which magnitude pruning ranks units (structured) — individual weights are always
/// ranked by their absolute value.
public enum PruningNorm: String, CaseIterable, Sendable, Codable {
    /// The sum of absolute values of a unit's incoming weights (Li et al., "Pruning Filters for
    /// Efficient ConvNets", 2017).
    case l1
    /// The root of the sum of their squares.
    case l2
    /// Not a norm of the weights but a measure of the loss: the first-order Taylor estimate of the
    /// loss change when the unit's output is cut, `|Σ W ⊙ ∂L/∂W|` over the weights that read it
    /// (the next layer's columns), summed over training batches (Molchanov et al., "Importance
    /// Estimation for Neural Network Pruning", 2019; for attention heads Michel et al., "Are
    /// Sixteen Heads Really Better than One?", 2019). Needs the checkpoint's training data.
    case taylor
}

/// What `cortado prune` is asked to do.
public struct PruningOptions: Sendable, Equatable {
    /// The fraction removed: of each weight matrix's entries (unstructured) or of each group's
    /// units (structured), in [0, 1).
    public var sparsity: Double
    /// Whether to remove whole units (channels, hidden and recurrent units, heads, feed-forward
    /// rows) and re-pack the weights dense, rather than zero single weights.
    public var structured = false
    /// How units are ranked (structured).
    public var norm: PruningNorm = .l1
    /// Epochs of fine-tuning after pruning (0: none), with `cortado train`'s recipe.
    public var fineTuneEpochs = 0
    /// Fine-tuning: the training samples to use (all when `nil`), for quick runs and tests.
    public var fineTuneLimit: Int?
    /// Fine-tuning: the schedule's base learning rate (the checkpoint's when `nil`). A pruned model
    /// often recovers faster with a larger rate than its training ended on.
    public var fineTuneLearningRate: Float?
    /// `--norm taylor`: the training batches (at most) over which the units' importance is summed.
    public var taylorBatches = 32
    /// Fine-tuning: learn the dense model's outputs too (``Distillation``, the dense model as the
    /// teacher); `nil` for the labels alone.
    public var distillation: Distillation.Settings?

    /// Options removing `sparsity` of the weights or units.
    public init(sparsity: Double, structured: Bool = false, norm: PruningNorm = .l1, fineTuneEpochs: Int = 0) {
        self.sparsity = sparsity
        self.structured = structured
        self.norm = norm
        self.fineTuneEpochs = fineTuneEpochs
    }

    /// Throws ``TrainingError/invalidOption(_:)`` naming the flag: a sparsity outside [0, 1) or not
    /// a number, a negative or huge number of epochs, a learning rate that is not positive, a
    /// distillation temperature or weight out of range, or either of the last two without fine-tuning.
    public func validate() throws {
        guard sparsity.isFinite, sparsity >= 0, sparsity < 1 else {
            throw TrainingError.invalidOption("--sparsity must be a number in [0, 1) (the fraction removed), not \(sparsity)")
        }
        guard fineTuneEpochs >= 0, fineTuneEpochs <= TrainingOptions.Limits.epochs else {
            throw TrainingError.invalidOption("--fine-tune must be a number of epochs from 0 to \(TrainingOptions.Limits.epochs), not \(fineTuneEpochs)")
        }
        if let fineTuneLimit, fineTuneLimit < 1 {
            throw TrainingError.invalidOption("--limit must be positive, not \(fineTuneLimit)")
        }
        if let rate = fineTuneLearningRate {
            guard rate > 0 && rate.isFinite else { throw TrainingError.invalidOption("--lr must be a positive finite number, not \(rate)") }
            guard fineTuneEpochs > 0 else { throw TrainingError.invalidOption("--lr sets the fine-tuning rate: add --fine-tune N") }
        }
        if norm == .taylor && !structured {
            throw TrainingError.invalidOption("--norm taylor ranks whole units: add --structured")
        }
        if let distillation {
            try distillation.validate()
            guard fineTuneEpochs > 0 else { throw TrainingError.invalidOption("--distill applies to fine-tuning: add --fine-tune N") }
        }
    }
}

/// What a pruned checkpoint records about its pruning, as JSON in the metadata entry
/// ``ModelCheckpoint/pruningKey``.
public struct PruningRecord: Codable, Sendable, Equatable {
    /// One group of units that structured pruning shrank.
    public struct Group: Codable, Sendable, Equatable {
        /// What the units are, e.g. `0: convolution channels` or `encoder.layer.3: attention heads`.
        public var name: String
        /// Units before pruning.
        public var before: Int
        /// Units kept.
        public var after: Int

        /// A group record.
        public init(name: String, before: Int, after: Int) {
            self.name = name
            self.before = before
            self.after = after
        }
    }

    /// `structured` or `unstructured`.
    public var method: String
    /// The sparsity asked for.
    public var sparsity: Double
    /// The norm units were ranked by (structured).
    public var norm: PruningNorm
    /// Structured: the groups of units and their sizes before and after.
    public var groups: [Group]
    /// Unstructured: the weights pruned (dotted names).
    public var prunedWeights: [String]
    /// The parts that stay dense (not pruned), in words.
    public var dense: [String]
    /// Parameters before and after (structured) or the zero weights among the pruned ones
    /// (unstructured, `zeroWeights` of `prunableWeights`).
    public var parametersBefore: Int, parametersAfter: Int
    /// Unstructured: zero entries in the pruned weights, and their total entries.
    public var zeroWeights: Int, prunableWeights: Int
    /// Fine-tuning epochs run after pruning.
    public var fineTuneEpochs: Int

    private enum CodingKeys: String, CodingKey {
        case method, sparsity, norm, groups, dense
        case prunedWeights = "pruned_weights", parametersBefore = "parameters_before", parametersAfter = "parameters_after"
        case zeroWeights = "zero_weights", prunableWeights = "prunable_weights", fineTuneEpochs = "fine_tune_epochs"
    }
}

/// The outcome of ``ModelCheckpoint/writePruned(to:options:device:epochEnded:)``.
public struct PruningReport: Sendable {
    /// What was pruned, as recorded in the file.
    public var record: PruningRecord
    /// Test accuracy (or `nil` for regression) of the unpruned model, of the pruned one before
    /// fine-tuning, and after it; measured only when fine-tuning (which loads the data).
    public var denseAccuracy: Double?, prunedAccuracy: Double?, fineTunedAccuracy: Double?
}

/// Magnitude pruning of trained models: ``unstructured(_:sparsity:)`` zeroes the smallest weights,
/// ``structured(_:configuration:sparsity:norm:device:)`` removes whole units and re-packs the
/// model dense with a smaller configuration.
public enum Pruning {}
