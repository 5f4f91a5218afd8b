import Foundation

/// A long short-term memory layer over batch-first sequences `[batch, time, features]`.
///
/// Gates are computed as PyTorch's LSTM (order input, forget, cell, output; one bias): the input
/// projection of all time steps is one GEMM, then each step adds `h · W_hhᵀ` and applies the gates.
/// Returns the last hidden state `[batch, hidden]`, or every step's `[batch, time, hidden]` with
/// `returnSequences`.
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
        guard x.rank == 3, x.shape[2] == weightIH.value.shape[1], x.shape[1] > 0 else {
            throw CortadoError.shapeMismatch("LSTM(\(weightIH.value.shape[1]) → \(hiddenSize)) needs [batch, time, \(weightIH.value.shape[1])], not \(x.shape)")
        }
        let (batch, steps, h4) = (x.shape[0], x.shape[1], 4 * hiddenSize)
        // All steps' input projections in one GEMM: [batch, time, 4·hidden].
        let projected = try (x.reshaped([batch * steps, x.shape[2]]).matmul(weightIH.value.transposed()) + bias.value)
            .reshaped([batch, steps, h4])
        let recurrent = try weightHH.value.transposed()
        var hidden = try Tensor.zeros([batch, hiddenSize], device: x.device)
        var cell = try Tensor.zeros([batch, hiddenSize], device: x.device)
        var outputs: [Tensor] = []
        for t in 0..<steps {
            let gates = try projected.sliced(axis: 1, t..<(t + 1)).reshaped([batch, h4]) + hidden.matmul(recurrent)
            let input = try gates.sliced(axis: 1, 0..<hiddenSize).sigmoid()
            let forget = try gates.sliced(axis: 1, hiddenSize..<(2 * hiddenSize)).sigmoid()
            let candidate = try gates.sliced(axis: 1, (2 * hiddenSize)..<(3 * hiddenSize)).tanh()
            let output = try gates.sliced(axis: 1, (3 * hiddenSize)..<h4).sigmoid()
            cell = try forget * cell + input * candidate
            hidden = try output * cell.tanh()
            if returnSequences { outputs.append(try hidden.unsqueezed(axis: 1)) }
        }
        return returnSequences ? try Tensor.concat(outputs, axis: 1) : hidden
    }
}
