/// A long short-term memory layer over batch-first sequences `[batch, time, features]`.
///
/// Gates follow PyTorch's LSTM (order input, forget, cell, output; one bias). The input projection
/// of all time steps is one GEMM; the recurrence runs as one fused op (one GEMM and one gate kernel
/// per step, see ``Tensor/lstm(recurrentWeight:mask:)``). Returns the last hidden state
/// `[batch, hidden]`, or every step's `[batch, time, hidden]` with `returnSequences`.
/// - Note: Hochreiter & Schmidhuber, "Long Short-Term Memory", 1997.
public final class LSTM: Module {
    /// `[4·hidden, inputSize]`.
    public let weightIH: Parameter
    /// `[4·hidden, hidden]`.
    public let weightHH: Parameter
    /// `[4·hidden]`.
    public let bias: Parameter
    /// Units per state.
    public let hiddenSize: Int
    /// Whether to return every step's hidden state.
    public let returnSequences: Bool
    /// Training or evaluation mode (no effect).
    public var isTraining = true

    /// Creates the layer, initialised uniformly on ±1/√hidden as PyTorch does.
    public init(
        inputSize: Int, hiddenSize: Int, returnSequences: Bool = false, device: Device? = nil,
        generator: RandomGenerator? = nil
    ) throws {
        guard inputSize > 0, hiddenSize > 0 else {
            throw CortadoError.invalidArgument("LSTM(\(inputSize), \(hiddenSize)): sizes must be positive")
        }
        let bound = 1 / Float(hiddenSize).squareRoot()
        let initializer = Initializer.uniform(low: -bound, high: bound)
        weightIH = try Parameter(initializer.make([4 * hiddenSize, inputSize], fanIn: inputSize, fanOut: hiddenSize, device: device, generator: generator))
        weightHH = try Parameter(initializer.make([4 * hiddenSize, hiddenSize], fanIn: hiddenSize, fanOut: hiddenSize, device: device, generator: generator))
        bias = try Parameter(initializer.make([4 * hiddenSize], fanIn: hiddenSize, fanOut: hiddenSize, device: device, generator: generator))
        self.hiddenSize = hiddenSize
        self.returnSequences = returnSequences
    }

    /// The input and recurrent weights and the bias.
    public var parameters: [(name: String, parameter: Parameter)] {
        [("weight_ih", weightIH), ("weight_hh", weightHH), ("bias", bias)]
    }

    /// Runs the sequence `x` of shape `[batch, time, inputSize]` from zero initial states.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try callAsFunction(x, mask: nil)
    }

    /// Runs `x`; where `mask` (`[batch, time]`, float) is 0 the state carries over (padding).
    public func callAsFunction(_ x: Tensor, mask: Tensor?) throws -> Tensor {
        let sequence = try RecurrentLayers.project(x, weightIH.value, bias.value, gates: 4, name: "LSTM")
            .lstm(recurrentWeight: weightHH.value, mask: mask)
        return try RecurrentLayers.result(sequence, returnSequences: returnSequences)
    }
}

/// A gated recurrent unit layer over batch-first sequences, as PyTorch's GRU (gates r, z, n; the
/// reset gate multiplies `h·W_hnᵀ + b_hn`, so the recurrent bias is separate).
/// - Note: Cho et al., "Learning Phrase Representations using RNN Encoder–Decoder", 2014.
public final class GRU: Module {
    /// `[3·hidden, inputSize]`.
    public let weightIH: Parameter
    /// `[3·hidden, hidden]`.
    public let weightHH: Parameter
    /// `[3·hidden]`.
    public let biasIH: Parameter
    /// `[3·hidden]`.
    public let biasHH: Parameter
    /// Units per state.
    public let hiddenSize: Int
    /// Whether to return every step's hidden state.
    public let returnSequences: Bool
    /// Training or evaluation mode (no effect).
    public var isTraining = true

    /// Creates the layer, initialised uniformly on ±1/√hidden as PyTorch does.
    public init(
        inputSize: Int, hiddenSize: Int, returnSequences: Bool = false, device: Device? = nil,
        generator: RandomGenerator? = nil
    ) throws {
        guard inputSize > 0, hiddenSize > 0 else {
            throw CortadoError.invalidArgument("GRU(\(inputSize), \(hiddenSize)): sizes must be positive")
        }
        let bound = 1 / Float(hiddenSize).squareRoot()
        let initializer = Initializer.uniform(low: -bound, high: bound)
        weightIH = try Parameter(initializer.make([3 * hiddenSize, inputSize], fanIn: inputSize, fanOut: hiddenSize, device: device, generator: generator))
        weightHH = try Parameter(initializer.make([3 * hiddenSize, hiddenSize], fanIn: hiddenSize, fanOut: hiddenSize, device: device, generator: generator))
        biasIH = try Parameter(initializer.make([3 * hiddenSize], fanIn: hiddenSize, fanOut: hiddenSize, device: device, generator: generator))
        biasHH = try Parameter(initializer.make([3 * hiddenSize], fanIn: hiddenSize, fanOut: hiddenSize, device: device, generator: generator))
        self.hiddenSize = hiddenSize
        self.returnSequences = returnSequences
    }

    /// The input and recurrent weights and biases.
    public var parameters: [(name: String, parameter: Parameter)] {
        [("weight_ih", weightIH), ("weight_hh", weightHH), ("bias_ih", biasIH), ("bias_hh", biasHH)]
    }

    /// Runs the sequence `x` of shape `[batch, time, inputSize]` from a zero initial state.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try callAsFunction(x, mask: nil)
    }

    /// Runs `x`; where `mask` (`[batch, time]`, float) is 0 the state carries over (padding).
    public func callAsFunction(_ x: Tensor, mask: Tensor?) throws -> Tensor {
        let sequence = try RecurrentLayers.project(x, weightIH.value, biasIH.value, gates: 3, name: "GRU")
            .gru(recurrentWeight: weightHH.value, recurrentBias: biasHH.value, mask: mask)
        return try RecurrentLayers.result(sequence, returnSequences: returnSequences)
    }
}

/// What LSTM and GRU share: the input projection of all steps at once, and picking the output.
enum RecurrentLayers {
    /// `x·W_ihᵀ + b` for `x` of shape `[batch, time, features]`, as one GEMM: `[batch, time, gates·hidden]`.
    static func project(_ x: Tensor, _ weight: Tensor, _ bias: Tensor, gates: Int, name: String) throws -> Tensor {
        guard x.rank == 3, x.shape[2] == weight.shape[1], x.shape[1] > 0 else {
            throw CortadoError.shapeMismatch("\(name)(\(weight.shape[1]) → \(weight.shape[0] / gates)) needs [batch, time, \(weight.shape[1])], not \(x.shape)")
        }
        let (batch, steps) = (x.shape[0], x.shape[1])
        return try (x.reshaped([batch * steps, x.shape[2]]).matmul(weight.transposed()) + bias).reshaped([batch, steps, weight.shape[0]])
    }

    /// Every step's state, or the last one as `[batch, hidden]`.
    static func result(_ sequence: Tensor, returnSequences: Bool) throws -> Tensor {
        if returnSequences { return sequence }
        let steps = sequence.shape[1]
        return try sequence.sliced(axis: 1, (steps - 1)..<steps).reshaped([sequence.shape[0], sequence.shape[2]])
    }
}
