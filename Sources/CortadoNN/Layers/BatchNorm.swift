/// Batch normalisation over the channel dimension (axis 1) of `[N, C]`, `[N, C, L]` (1-d) or
/// `[N, C, H, W]` (2-d) input, with learned scale and shift and running statistics for evaluation.
///
/// Follows PyTorch: training normalises with the batch's biased variance and updates
/// `running = (1 − momentum)·running + momentum·batch` using the unbiased variance.
/// - Note: Ioffe & Szegedy, "Batch Normalization", 2015.
public final class BatchNorm: Module {
    /// Scale γ, `[C]`.
    public let weight: Parameter
    /// Shift β, `[C]`.
    public let bias: Parameter
    /// Running mean, `[C]` (not trained).
    public let runningMean: Parameter
    /// Running variance, `[C]` (not trained).
    public let runningVariance: Parameter
    /// Added to the variance before the square root.
    public let epsilon: Float
    /// Weight of the newest batch in the running statistics.
    public let momentum: Float
    /// Training (batch statistics) or evaluation (running statistics).
    public var isTraining = true

    /// Creates the layer for `channels` features.
    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, device: Device? = nil) throws {
        guard channels > 0 else { throw CortadoError.invalidArgument("BatchNorm(\(channels)): channels must be positive") }
        weight = try Parameter(Tensor.ones([channels], device: device))
        bias = try Parameter(Tensor.zeros([channels], device: device))
        runningMean = try Parameter(Tensor.zeros([channels], device: device), trainable: false)
        runningVariance = try Parameter(Tensor.ones([channels], device: device), trainable: false)
        self.epsilon = epsilon
        self.momentum = momentum
    }

    /// Scale, shift and running statistics.
    public var parameters: [(name: String, parameter: Parameter)] {
        [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVariance)]
    }

    /// Normalises `x` per channel.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let x = try input.inComputeType()
        let channels = weight.value.count
        guard x.rank >= 2, x.shape[1] == channels else {
            throw CortadoError.shapeMismatch("BatchNorm(\(channels)) needs input [N, \(channels), …], not \(x.shape)")
        }
        let axes = [0] + Array(2..<x.rank)
        // [C] viewed as [1, C, 1, …] to broadcast over the other axes.
        let broadcastShape = [1, channels] + Array(repeating: 1, count: x.rank - 2)
        let mean: Tensor, variance: Tensor
        if isTraining {
            let count = axes.reduce(1) { $0 * x.shape[$1] }
            guard count > 1 else {
                throw CortadoError.invalidArgument("BatchNorm in training needs more than one value per channel, got input \(x.shape)")
            }
            mean = try x.mean(axes: axes, keepingDims: true)
            variance = try (x - mean).square().mean(axes: axes, keepingDims: true)
            try withNoGrad {
                // The running statistics stay float32.
                let unbiased = try variance.reshaped([channels]).to(dtype: .float32) * (Float(count) / Float(count - 1))
                let batchMean = try mean.reshaped([channels]).to(dtype: .float32)
                try runningMean.replace(with: runningMean.value * (1 - momentum) + batchMean * momentum)
                try runningVariance.replace(with: runningVariance.value * (1 - momentum) + unbiased * momentum)
            }
        } else {
            mean = try runningMean.computeValue.reshaped(broadcastShape)
            variance = try runningVariance.computeValue.reshaped(broadcastShape)
        }
        let normalised = try (x - mean) / (variance + epsilon).sqrt()
        return try normalised * weight.computeValue.reshaped(broadcastShape) + bias.computeValue.reshaped(broadcastShape)
    }
}
