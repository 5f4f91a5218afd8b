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

    /// Creates the layer, initialised as Keras (`glorot_uniform` input weights, `orthogonal`
    /// recurrent weights, zero bias with the forget gate's at 1) or as PyTorch (all `U(±1/√hidden)`).
    public init(
        inputSize: Int, hiddenSize: Int, returnSequences: Bool = false, initialization: RecurrentInitialization = .keras,
        device: Device? = nil, generator: RandomGenerator? = nil
    ) throws {
        guard inputSize > 0, hiddenSize > 0 else {
            throw CortadoError.invalidArgument("LSTM(\(inputSize), \(hiddenSize)): sizes must be positive")
        }
        let weights = try initialization.weights(gates: 4, inputSize: inputSize, hiddenSize: hiddenSize, device: device, generator: generator)
        weightIH = try Parameter(weights.input)
        weightHH = try Parameter(weights.recurrent)
        bias = try Parameter(initialization.bias(gates: 4, hiddenSize: hiddenSize, forgetGate: 1, device: device, generator: generator))
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
        let sequence = try RecurrentLayers.project(x.inComputeType(), weightIH.computeValue, bias.computeValue, gates: 4, name: "LSTM")
            .lstm(recurrentWeight: weightHH.computeValue, mask: mask)
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

    /// Creates the layer, initialised as Keras (`glorot_uniform` input weights, `orthogonal`
    /// recurrent weights, zero biases) or as PyTorch (all `U(±1/√hidden)`).
    public init(
        inputSize: Int, hiddenSize: Int, returnSequences: Bool = false, initialization: RecurrentInitialization = .keras,
        device: Device? = nil, generator: RandomGenerator? = nil
    ) throws {
        guard inputSize > 0, hiddenSize > 0 else {
            throw CortadoError.invalidArgument("GRU(\(inputSize), \(hiddenSize)): sizes must be positive")
        }
        let weights = try initialization.weights(gates: 3, inputSize: inputSize, hiddenSize: hiddenSize, device: device, generator: generator)
        weightIH = try Parameter(weights.input)
        weightHH = try Parameter(weights.recurrent)
        biasIH = try Parameter(initialization.bias(gates: 3, hiddenSize: hiddenSize, forgetGate: nil, device: device, generator: generator))
        biasHH = try Parameter(initialization.bias(gates: 3, hiddenSize: hiddenSize, forgetGate: nil, device: device, generator: generator))
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
        let sequence = try RecurrentLayers.project(x.inComputeType(), weightIH.computeValue, biasIH.computeValue, gates: 3, name: "GRU")
            .gru(recurrentWeight: weightHH.computeValue, recurrentBias: biasHH.computeValue, mask: mask)
        return try RecurrentLayers.result(sequence, returnSequences: returnSequences)
    }
}

/// How ``LSTM`` and ``GRU`` fill their parameters.
public enum RecurrentInitialization: Sendable {
    /// Keras' defaults: input weights `glorot_uniform` (over the `[inputSize, gates·hidden]` kernel),
    /// recurrent weights `orthogonal`, biases zero except the LSTM's forget gate at 1 (`unit_forget_bias`).
    case keras
    /// PyTorch's: every weight and bias `U(±1/√hidden)`.
    case pytorch

    /// `W_ih` `[gates·hidden, inputSize]` and `W_hh` `[gates·hidden, hidden]`.
    func weights(
        gates: Int, inputSize: Int, hiddenSize: Int, device: Device?, generator: RandomGenerator?
    ) throws -> (input: Tensor, recurrent: Tensor) {
        let width = gates * hiddenSize
        switch self {
        case .keras:
            return (try Initializer.glorotUniform.make([width, inputSize], fanIn: inputSize, fanOut: width, device: device, generator: generator),
                    try Initializer.orthogonal(gain: 1).make([width, hiddenSize], fanIn: hiddenSize, fanOut: width, device: device, generator: generator))
        case .pytorch:
            let bound = 1 / Float(hiddenSize).squareRoot()
            let uniform = Initializer.uniform(low: -bound, high: bound)
            return (try uniform.make([width, inputSize], fanIn: inputSize, fanOut: hiddenSize, device: device, generator: generator),
                    try uniform.make([width, hiddenSize], fanIn: hiddenSize, fanOut: hiddenSize, device: device, generator: generator))
        }
    }

    /// A bias `[gates·hidden]`; Keras sets gate block `forgetGate` (when given) to 1.
    func bias(gates: Int, hiddenSize: Int, forgetGate: Int?, device: Device?, generator: RandomGenerator?) throws -> Tensor {
        switch self {
        case .keras:
            var values = [Float](repeating: 0, count: gates * hiddenSize)
            if let forgetGate { for j in 0..<hiddenSize { values[forgetGate * hiddenSize + j] = 1 } }
            return try Tensor(values, shape: [gates * hiddenSize], device: device)
        case .pytorch:
            let bound = 1 / Float(hiddenSize).squareRoot()
            return try Tensor.uniform([gates * hiddenSize], low: -bound, high: bound, device: device, generator: generator)
        }
    }
}

/// What LSTM and GRU share: the input projection of all steps at once, and picking the output.
enum RecurrentLayers {
    /// `x·W_ihᵀ + b` for `x` of shape `[batch, time, features]`, as one GEMM onto the broadcast bias
    /// (``Tensor/linear(weight:bias:)``): `[batch, time, gates·hidden]`.
    static func project(_ x: Tensor, _ weight: Tensor, _ bias: Tensor, gates: Int, name: String) throws -> Tensor {
        guard x.rank == 3, x.shape[2] == weight.shape[1], x.shape[1] > 0 else {
            throw CortadoError.shapeMismatch("\(name)(\(weight.shape[1]) → \(weight.shape[0] / gates)) needs [batch, time, \(weight.shape[1])], not \(x.shape)")
        }
        return try x.linear(weight: weight, bias: bias)
    }

    /// Every step's state, or the last one as `[batch, hidden]`.
    static func result(_ sequence: Tensor, returnSequences: Bool) throws -> Tensor {
        if returnSequences { return sequence }
        let steps = sequence.shape[1]
        return try sequence.sliced(axis: 1, (steps - 1)..<steps).reshaped([sequence.shape[0], sequence.shape[2]])
    }
}
