extension Tensor {
    /// Runs an LSTM (PyTorch's gate order i, f, g, o) over a sequence whose input projection is this
    /// tensor, `x·W_ihᵀ + b` of shape `[batch, steps, 4·hidden]`, from zero initial states.
    ///
    /// Each step is one GEMM (`h·W_hhᵀ`) and one fused gate kernel; backpropagation through time runs
    /// one fused kernel and one GEMM per step and computes `∂W_hh` over all steps with one GEMM. The
    /// whole sequence is one node of the autograd graph.
    /// - Parameters:
    ///   - recurrentWeight: `W_hh`, `[4·hidden, hidden]`.
    ///   - mask: optional `[batch, steps]`, 1 for tokens and 0 for padding, where the state carries over.
    /// - Returns: every step's hidden state, `[batch, steps, hidden]`.
    public func lstm(recurrentWeight: Tensor, mask: Tensor? = nil) throws -> Tensor {
        try recurrent(.lstm, recurrentWeight: recurrentWeight, recurrentBias: nil, mask: mask)
    }

    /// Runs a GRU (PyTorch's formulation: `n = tanh(x_n + r·(h·W_hnᵀ + b_hn))`) over a sequence whose
    /// input projection is this tensor, `x·W_ihᵀ + b_ih` of shape `[batch, steps, 3·hidden]`.
    /// - Parameters:
    ///   - recurrentWeight: `W_hh`, `[3·hidden, hidden]`.
    ///   - recurrentBias: `b_hh`, `[3·hidden]` (inside the reset gate's product, so not foldable into b_ih).
    ///   - mask: optional `[batch, steps]` padding mask.
    /// - Returns: every step's hidden state, `[batch, steps, hidden]`.
    public func gru(recurrentWeight: Tensor, recurrentBias: Tensor, mask: Tensor? = nil) throws -> Tensor {
        try recurrent(.gru, recurrentWeight: recurrentWeight, recurrentBias: recurrentBias, mask: mask)
    }

    private func recurrent(_ cell: RecurrentCell, recurrentWeight: Tensor, recurrentBias: Tensor?, mask: Tensor?) throws -> Tensor {
        let name = cell == .lstm ? "lstm" : "gru"
        try checkSameDevice(name, recurrentWeight)
        try requireSupport(.recurrent, name, recurrentWeight, recurrentBias)
        try mask?.requireMask(name)
        let hidden = recurrentWeight.shape.last ?? 0
        guard rank == 3, recurrentWeight.shape == [cell.gates * hidden, hidden], shape[2] == cell.gates * hidden, shape[1] > 0 else {
            throw CortadoError.shapeMismatch("\(name): projected inputs \(shape) need [batch, steps, \(cell.gates)·hidden] with W_hh [\(cell.gates)·hidden, hidden], got W_hh \(recurrentWeight.shape)")
        }
        let (batch, steps) = (shape[0], shape[1])
        if let recurrentBias {
            try checkSameDevice(name, recurrentBias)
            guard recurrentBias.shape == [cell.gates * hidden] else {
                throw CortadoError.shapeMismatch("\(name): recurrent bias \(recurrentBias.shape), expected [\(cell.gates * hidden)]")
            }
        }
        if let mask {
            try checkSameDevice(name, mask)
            guard mask.shape == [batch, steps], mask.dtype == .float32 else {
                throw CortadoError.shapeMismatch("\(name): mask \(mask.shape) must be float32 [\(batch), \(steps)]")
            }
        }
        let projected = try dense(), whh = try recurrentWeight.dense()
        let bhh = try recurrentBias?.dense(), m = try mask?.dense()
        let stateSize = batch * hidden

        // States of every step (index 0 = the zero initial state), saved activations, outputs.
        let hs = try Tensor.empty([steps + 1, batch, hidden], dtype: dtype, on: backend)
        let cs = cell == .lstm ? try Tensor.empty([steps + 1, batch, hidden], dtype: dtype, on: backend) : nil
        try backend.fill(hs.buffer, offset: 0, count: stateSize, value: 0)
        if let cs { try backend.fill(cs.buffer, offset: 0, count: stateSize, value: 0) }
        let saved = try Tensor.empty([steps, batch, 4 * hidden], dtype: dtype, on: backend)
        let outputs = try Tensor.empty([batch, steps, hidden], dtype: dtype, on: backend)
        let sequence = RecurrentSequence(
            cell: cell, steps: steps, batch: batch, hidden: hidden, projected: projected.buffer, recurrentWeight: whh.buffer,
            recurrentBias: bhh?.buffer, mask: m?.buffer, states: hs.buffer, cells: cs?.buffer, saved: saved.buffer)
        try backend.recurrentForward(sequence, outputs: outputs.buffer)

        let inputs = [self, recurrentWeight] + (recurrentBias.map { [$0] } ?? [])
        let needs = inputs.map(\.requiresGrad)
        return outputs.recordingGradient(name, inputs) { gradient in
            let backend = whh.backend
            let dOut = try gradient.dense()
            let width = cell.gates * hidden
            let byStep = try Tensor.empty([steps, batch, width], dtype: whh.dtype, on: backend)
            let dProjected = try Tensor.empty([batch, steps, width], dtype: whh.dtype, on: backend)
            try backend.recurrentBackward(sequence, dOutputs: dOut.buffer, dGatesByStep: byStep.buffer, dProjected: dProjected.buffer)
            var grads: [Tensor?] = [needs[0] ? dProjected : nil, nil]
            if needs[1] {
                // ∂W_hh = Σ_t ∂gates_tᵀ · h_{t−1}: one GEMM over all steps' rows.
                let dWhh = try Tensor.empty([width, hidden], dtype: whh.dtype, on: backend)
                try backend.gemm(
                    GemmDescriptor(batch: 1, m: width, n: hidden, k: steps * batch),
                    MatrixOperand(buffer: byStep.buffer, offset: 0, rowStride: 1, columnStride: width, batchStride: 0),
                    MatrixOperand(buffer: hs.buffer, offset: 0, rowStride: hidden, columnStride: 1, batchStride: 0),
                    MatrixOperand(buffer: dWhh.buffer, offset: 0, rowStride: hidden, columnStride: 1, batchStride: 0))
                grads[1] = dWhh
            }
            if needs.count == 3 {
                grads.append(needs[2] ? try byStep.reshaped([steps * batch, width]).sum(axes: [0]) : nil)
            }
            return grads
        }
    }
}
