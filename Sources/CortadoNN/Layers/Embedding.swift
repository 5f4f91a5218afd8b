/// A lookup table of `vocabulary` vectors of `dimension` floats: `int32` token ids `[…]` become
/// `[…, dimension]`.
public final class Embedding: Module {
    /// `[vocabulary, dimension]`.
    public let weight: Parameter
    /// Training or evaluation mode (no effect).
    public var isTraining = true

    /// Creates the table, initialised uniformly on ±0.05 (Keras' default) unless told otherwise.
    public init(
        vocabulary: Int, dimension: Int, initializer: Initializer = .uniform(low: -0.05, high: 0.05),
        device: Device? = nil, generator: RandomGenerator? = nil
    ) throws {
        guard vocabulary > 0, dimension > 0 else {
            throw CortadoError.invalidArgument("Embedding(\(vocabulary), \(dimension)): sizes must be positive")
        }
        weight = try Parameter(initializer.make(
            [vocabulary, dimension], fanIn: vocabulary, fanOut: dimension, device: device, generator: generator))
    }

    /// The table.
    public var parameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    /// The vectors of `ids` (`int32`), in the compute type: the rows are gathered from the float32
    /// table and converted, never the whole table.
    public func callAsFunction(_ ids: Tensor) throws -> Tensor {
        try weight.value.gatheredRows(ids).inComputeType()
    }
}
