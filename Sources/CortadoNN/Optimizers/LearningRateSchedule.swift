import Foundation

/// The learning rate as a function of the step: an optional linear warm-up from 0, then a constant,
/// step-decayed, cosine-annealed or linearly decayed rate.
public struct LearningRateSchedule: Sendable, Codable, Equatable {
    /// What happens after the warm-up.
    public enum Shape: Sendable, Codable, Equatable {
        /// The base rate throughout.
        case constant
        /// Multiplied by `factor` every `every` steps.
        case step(every: Int, factor: Float)
        /// Cosine annealing from the base rate to `base · minimumFactor` at the last step.
        case cosine(minimumFactor: Float)
        /// Linear decay from the base rate to 0 at the last step (BERT fine-tuning's schedule).
        case linear
    }

    /// The peak learning rate.
    public var base: Float
    /// The decay after warm-up.
    public var shape: Shape
    /// Steps of linear warm-up from 0 to `base`.
    public var warmupSteps: Int
    /// Total steps of the run (for cosine and linear decay).
    public var totalSteps: Int

    /// Creates a schedule.
    public init(base: Float, shape: Shape = .constant, warmupSteps: Int = 0, totalSteps: Int = 1) {
        self.base = base
        self.shape = shape
        self.warmupSteps = max(warmupSteps, 0)
        self.totalSteps = max(totalSteps, 1)
    }

    /// The rate for step `step` (0-based).
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return base * Float(step + 1) / Float(warmupSteps) }
        let afterWarmup = step - warmupSteps
        let decaySteps = max(totalSteps - warmupSteps, 1)
        let progress = min(Double(afterWarmup) / Double(decaySteps), 1)
        switch shape {
        case .constant:
            return base
        case let .step(every, factor):
            return base * pow(factor, Float(afterWarmup / max(every, 1)))
        case let .cosine(minimumFactor):
            let cosine = Float(0.5 * (1 + cos(Double.pi * progress)))
            return base * (minimumFactor + (1 - minimumFactor) * cosine)
        case .linear:
            return base * Float(1 - progress)
        }
    }
}
