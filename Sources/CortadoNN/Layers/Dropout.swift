/// Zeroes each element with probability `probability` in training and scales the rest by
/// `1 / (1 − probability)`; the identity in evaluation (inverted dropout, as PyTorch and Keras).
/// - Note: Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks from Overfitting", 2014.
public final class Dropout: Module {
    /// The probability of zeroing an element.
    public let probability: Float
    /// Training (dropping) or evaluation (identity).
    public var isTraining = true
    private let generator: RandomGenerator?

    /// - Parameter generator: the random stream for masks; the global generator when `nil`.
    public init(_ probability: Float, generator: RandomGenerator? = nil) throws {
        guard probability >= 0, probability < 1 else {
            throw CortadoError.invalidArgument("Dropout probability \(probability) must be in [0, 1)")
        }
        self.probability = probability
        self.generator = generator
    }

    /// Drops elements of `x` in training mode.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard isTraining, probability > 0 else { return x }
        // In data-parallel training and in micro-batches, the mask of the whole global batch, cut
        // to this shard's rows; every pass of a step draws the first pass's mask.
        if let shard = BatchShard.current, x.rank > 0, x.shape[0] == shard.count, shard.total > shard.count {
            let source = generator ?? Random.global
            shard.draws?.willDraw(from: source, pass: shard.pass)
            let mask = try Tensor.bernoulli(
                [shard.total] + x.shape.dropFirst(), probability: 1 - probability, value: 1 / (1 - probability),
                device: x.device, generator: source)
            return try x * mask.sliced(axis: 0, shard.offset..<(shard.offset + shard.count))
        }
        let mask = try Tensor.bernoulli(
            x.shape, probability: 1 - probability, value: 1 / (1 - probability), device: x.device, generator: generator)
        return try x * mask.to(dtype: x.dtype)
    }
}
