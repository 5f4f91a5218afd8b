/// Dynamic loss scaling for `fp16` mixed-precision training, as PyTorch's `GradScaler`.
///
/// The loss is multiplied by ``scale`` before the backward pass, so that small gradients survive
/// in float16. After the backward pass ``unscale(_:)`` checks every gradient: when one holds an
/// infinity or NaN the step is skipped and the scale halved; otherwise the gradients are divided by
/// the scale and, after ``growthInterval`` clean steps in a row, the scale doubles.
/// - Note: Micikevicius et al., "Mixed Precision Training", 2018.
public final class LossScaler {
    /// The current factor.
    public private(set) var scale: Float
    /// Clean steps in a row after which the scale doubles.
    public let growthInterval: Int
    /// Steps skipped because of an overflowing gradient.
    public private(set) var skippedSteps = 0
    private var cleanSteps = 0

    /// A scaler starting at `scale` (2¹⁶ by default) that doubles after `growthInterval` clean steps.
    public init(scale: Float = 65536, growthInterval: Int = 2000) throws {
        guard scale.isFinite, scale > 0, growthInterval > 0 else {
            throw CortadoError.invalidArgument("LossScaler: the scale must be positive and finite and the growth interval positive")
        }
        self.scale = scale
        self.growthInterval = growthInterval
    }

    /// What a checkpoint records of a scaler so that a resumed run scales as the uninterrupted one
    /// would have: the factor, the clean steps since it last changed, the steps skipped so far.
    public struct State: Codable, Sendable, Equatable {
        /// The current factor.
        public var scale: Float
        /// Clean steps in a row since the factor last changed.
        public var cleanSteps: Int
        /// Steps skipped because of an overflowing gradient.
        public var skippedSteps: Int

        /// A state.
        public init(scale: Float, cleanSteps: Int, skippedSteps: Int) {
            self.scale = scale
            self.cleanSteps = cleanSteps
            self.skippedSteps = skippedSteps
        }
    }

    /// The scaler's state now.
    public var state: State { State(scale: scale, cleanSteps: cleanSteps, skippedSteps: skippedSteps) }

    /// Continues from a recorded `state`.
    /// - Throws: ``CortadoError/invalidArgument(_:)`` when the scale is not positive and finite, or
    ///   a count is negative or the clean steps reach the growth interval.
    public func restore(_ state: State) throws {
        guard state.scale.isFinite, state.scale > 0, state.cleanSteps >= 0, state.cleanSteps < growthInterval,
              state.skippedSteps >= 0
        else {
            throw CortadoError.invalidArgument(
                "LossScaler: scale \(state.scale), clean steps \(state.cleanSteps), skipped steps \(state.skippedSteps) are no scaler's state")
        }
        scale = state.scale
        cleanSteps = state.cleanSteps
        skippedSteps = state.skippedSteps
    }

    /// The loss multiplied by the scale, to call `backward()` on.
    public func scaled(_ loss: Tensor) throws -> Tensor {
        try loss * scale
    }

    /// Checks the gradients of `parameters` (one read from the device): returns `false` when one
    /// of them overflowed, after halving the scale (the caller skips the optimizer step); else
    /// divides every gradient by the scale and returns `true`.
    public func unscale(_ parameters: [Parameter]) throws -> Bool {
        let gradients = parameters.compactMap(\.gradient)
        guard let first = gradients.first else { return true }
        // 0 · g is NaN exactly where g is infinite or NaN; summing them finds any in one read.
        let finite = try withNoGrad {
            var probe = try (first * 0).sum()
            for gradient in gradients.dropFirst() { probe = try probe + (gradient * 0).sum().to(first.device) }
            return try probe.item().isFinite
        }
        guard finite else {
            scale /= 2
            cleanSteps = 0
            skippedSteps += 1
            return false
        }
        for gradient in gradients { try gradient.scaleInPlace(by: 1 / scale) }
        cleanSteps += 1
        if cleanSteps == growthInterval {
            scale *= 2
            cleanSteps = 0
        }
        return true
    }
}
