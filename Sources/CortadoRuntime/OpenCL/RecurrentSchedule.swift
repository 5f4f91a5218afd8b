/// One time step of a recurrent layer over `[batch, steps, …]` sequences with `hidden` units.
package struct RecurrentStep: Sendable {
    package var step: Int
    package var steps: Int
    package var batch: Int
    package var hidden: Int

    package init(step: Int, steps: Int, batch: Int, hidden: Int) {
        self.step = step
        self.steps = steps
        self.batch = batch
        self.hidden = hidden
    }
}

/// The fused gate kernels of the GEMM-per-step schedule: a backend that has them runs a recurrent
/// layer as one GEMM (`h·W_hhᵀ`) plus one of these per step, in ``RecurrentSchedule``.
package protocol RecurrentStepKernels: Backend {
    /// One LSTM step: gates from `projected[:, step]` and `hw = h·W_hhᵀ`, saving the activated
    /// gates, writing the next states and `outputs[:, step]`.
    func lstmStepForward(
        _ s: RecurrentStep, projected: DeviceBuffer, hw: DeviceBuffer, hPrev: BufferSlice, cPrev: BufferSlice,
        mask: DeviceBuffer?, gates: BufferSlice, hNext: BufferSlice, cNext: BufferSlice, outputs: DeviceBuffer
    ) throws
    /// The backward pass of one LSTM step: gate gradients (step-major and batch-major), `dcPrev`,
    /// and the direct part of `dhPrev` (the schedule then adds `dgates·W_hh`).
    func lstmStepBackward(
        _ s: RecurrentStep, gates: BufferSlice, cPrev: BufferSlice, dOutputs: DeviceBuffer, dhCarry: DeviceBuffer,
        dcCarry: DeviceBuffer, mask: DeviceBuffer?, dGatesByStep: DeviceBuffer, dProjected: DeviceBuffer,
        dhPrev: DeviceBuffer, dcPrev: DeviceBuffer
    ) throws
    /// One GRU step: gates from `projected[:, step]`, `hw = h·W_hhᵀ` and `biasHH`, saving r, z, n, h_n.
    func gruStepForward(
        _ s: RecurrentStep, projected: DeviceBuffer, hw: DeviceBuffer, biasHH: DeviceBuffer, hPrev: BufferSlice,
        mask: DeviceBuffer?, saved: BufferSlice, hNext: BufferSlice, outputs: DeviceBuffer
    ) throws
    /// The backward pass of one GRU step: gate gradients toward the projected inputs and toward
    /// the recurrent product, and the direct part of `dhPrev`.
    func gruStepBackward(
        _ s: RecurrentStep, saved: BufferSlice, hPrev: BufferSlice, dOutputs: DeviceBuffer, dhCarry: DeviceBuffer,
        mask: DeviceBuffer?, dGatesByStep: DeviceBuffer, dProjected: DeviceBuffer, dhPrev: DeviceBuffer
    ) throws
}

/// The GEMM-per-step schedule of a recurrent layer, which OpenCL runs for layers too wide for its
/// one-kernel steps. (The CPU runs every step of a block of rows on one core instead: see
/// `CPUBackend+Recurrent.swift`.)
package enum RecurrentSchedule {
    /// Forward: per step `hw = h_{t−1}·W_hhᵀ` (GEMM) and the fused gate kernel.
    package static func forward<B: RecurrentStepKernels>(
        _ backend: B, _ q: RecurrentSequence, outputs: DeviceBuffer
    ) throws {
        let (stateSize, width) = (q.stateSize, q.cell.gates * q.hidden)
        let hw = try backend.allocator.allocate(count: q.batch * width, dtype: .float32)
        let product = GemmDescriptor(batch: 1, m: q.batch, n: width, k: q.hidden)
        // W_hhᵀ as the right operand: element (k, n) is W_hh[n, k].
        let weightTransposed = MatrixOperand(buffer: q.recurrentWeight, offset: 0, rowStride: 1, columnStride: q.hidden, batchStride: 0)
        for t in 0..<q.steps {
            try backend.gemm(
                product, MatrixOperand(buffer: q.states, offset: t * stateSize, rowStride: q.hidden, columnStride: 1, batchStride: 0),
                weightTransposed, MatrixOperand(buffer: hw, offset: 0, rowStride: width, columnStride: 1, batchStride: 0))
            let step = RecurrentStep(step: t, steps: q.steps, batch: q.batch, hidden: q.hidden)
            let hPrev = BufferSlice(q.states, offset: t * stateSize), hNext = BufferSlice(q.states, offset: (t + 1) * stateSize)
            let saved = BufferSlice(q.saved, offset: t * 4 * stateSize)
            switch q.cell {
            case .lstm:
                guard let cells = q.cells else { throw CortadoError.invalidArgument("an LSTM pass needs cell states") }
                try backend.lstmStepForward(
                    step, projected: q.projected, hw: hw, hPrev: hPrev, cPrev: BufferSlice(cells, offset: t * stateSize),
                    mask: q.mask, gates: saved, hNext: hNext, cNext: BufferSlice(cells, offset: (t + 1) * stateSize), outputs: outputs)
            case .gru:
                guard let bias = q.recurrentBias else { throw CortadoError.invalidArgument("a GRU pass needs its recurrent bias") }
                try backend.gruStepForward(
                    step, projected: q.projected, hw: hw, biasHH: bias, hPrev: hPrev, mask: q.mask, saved: saved,
                    hNext: hNext, outputs: outputs)
            }
        }
    }

    /// Backward: per step (last first) the fused gate-gradient kernel, then `∂h_{t−1} += ∂gates_t·W_hh`
    /// (GEMM); `∂h` and `∂c` ping-pong between two scratch buffers.
    package static func backward<B: RecurrentStepKernels>(
        _ backend: B, _ q: RecurrentSequence, dOutputs: DeviceBuffer, dGatesByStep: DeviceBuffer, dProjected: DeviceBuffer
    ) throws {
        let (stateSize, width) = (q.stateSize, q.cell.gates * q.hidden)
        func zeroed() throws -> DeviceBuffer {
            let buffer = try backend.allocator.allocate(count: stateSize, dtype: .float32)
            try backend.fill(buffer, offset: 0, count: stateSize, value: 0)
            return buffer
        }
        var dh = [try zeroed(), try backend.allocator.allocate(count: stateSize, dtype: .float32)]
        var dc = q.cell == .lstm ? [try zeroed(), try backend.allocator.allocate(count: stateSize, dtype: .float32)] : []
        let weight = MatrixOperand(buffer: q.recurrentWeight, offset: 0, rowStride: q.hidden, columnStride: 1, batchStride: 0)
        for t in (0..<q.steps).reversed() {
            let step = RecurrentStep(step: t, steps: q.steps, batch: q.batch, hidden: q.hidden)
            let saved = BufferSlice(q.saved, offset: t * 4 * stateSize)
            switch q.cell {
            case .lstm:
                guard let cells = q.cells else { throw CortadoError.invalidArgument("an LSTM pass needs cell states") }
                try backend.lstmStepBackward(
                    step, gates: saved, cPrev: BufferSlice(cells, offset: t * stateSize), dOutputs: dOutputs, dhCarry: dh[0],
                    dcCarry: dc[0], mask: q.mask, dGatesByStep: dGatesByStep, dProjected: dProjected, dhPrev: dh[1], dcPrev: dc[1])
                dc.swapAt(0, 1)
            case .gru:
                try backend.gruStepBackward(
                    step, saved: saved, hPrev: BufferSlice(q.states, offset: t * stateSize), dOutputs: dOutputs, dhCarry: dh[0],
                    mask: q.mask, dGatesByStep: dGatesByStep, dProjected: dProjected, dhPrev: dh[1])
            }
            if t > 0 {  // ∂h_0 is not needed: the initial state is a constant zero.
                try backend.gemm(
                    GemmDescriptor(batch: 1, m: q.batch, n: q.hidden, k: width, beta: 1),
                    MatrixOperand(buffer: dGatesByStep, offset: t * q.batch * width, rowStride: width, columnStride: 1, batchStride: 0),
                    weight, MatrixOperand(buffer: dh[1], offset: 0, rowStride: q.hidden, columnStride: 1, batchStride: 0))
            }
            dh.swapAt(0, 1)
        }
    }
}
