/// Recurrent layers on OpenCL. Up to `KernelParameters.recurrent.maxHidden` units a step is one
/// kernel that computes its own slice of the recurrent product (a work-item takes the dot products
/// of a few rows of `h` with a few units' rows of `W_hh`): a third of the launches of the
/// GEMM-per-step schedule, whose small GEMMs are mostly launch overhead at these sizes. Wider
/// layers use that schedule, where a tiled GEMM reuses `W_hh` better.
extension OpenCLBackend: RecurrentStepKernels {
    /// Whether a layer of `hidden` units runs one kernel per step.
    private func fusesSteps(hidden: Int) -> Bool {
        hidden <= parameters.recurrent.maxHidden && hidden % parameters.recurrent.unitsPerItem == 0
    }

    /// The launch grid of the one-kernel steps: (unit groups, row groups), work-groups along units.
    private func fusedGrid(_ q: RecurrentSequence) -> (global: [Int], local: [Int]) {
        let units = q.hidden / parameters.recurrent.unitsPerItem
        let rows = (q.batch + parameters.recurrent.rowsPerItem - 1) / parameters.recurrent.rowsPerItem
        return ([units, rows], [min(units, 64), 1])
    }

    package func recurrentForward(_ q: RecurrentSequence, outputs: DeviceBuffer) throws {
        if q.projected.dtype.isHalf {
            return try widening(q.inputs, updating: q.histories, into: [q.saved, outputs]) { b in
                try recurrentForward(q.replacing(b), outputs: b[7]!)
            }
        }
        guard fusesSteps(hidden: q.hidden) else {
            return try RecurrentSchedule.forward(self, q, outputs: outputs)
        }
        // W_hhᵀ [hidden, gates·hidden], so that neighbouring work-items (units) read neighbouring addresses.
        let width = q.cell.gates * q.hidden
        let weightTransposed = try allocator.allocate(count: width * q.hidden, dtype: .float32)
        try copy(StridedView(buffer: q.recurrentWeight, offset: 0, shape: [q.hidden, width], strides: [1, q.hidden]),
                 to: StridedView(buffer: weightTransposed, offset: 0, shape: [q.hidden, width], strides: [width, 1]))
        let kernel = q.cell == .lstm ? "lstm_fused_forward" : "gru_fused_forward"
        let grid = fusedGrid(q)
        for t in 0..<q.steps {
            try launch(.recurrent, kernel, global: grid.global, local: grid.local,
                       [.buffer(q.projected), .buffer(weightTransposed), .buffer(q.recurrentBias ?? q.projected),
                        .buffer(q.states), .buffer(q.cells ?? q.states)] + maskArguments(q.mask, fallback: q.projected)
                       + [.buffer(q.saved), .buffer(outputs), .int(t), .int(q.steps), .int(q.batch), .int(q.hidden)])
        }
    }

    package func recurrentBackward(
        _ q: RecurrentSequence, dOutputs: DeviceBuffer, dGatesByStep: DeviceBuffer, dProjected: DeviceBuffer
    ) throws {
        if q.projected.dtype.isHalf {
            return try widening(q.inputs + q.histories + [q.saved, dOutputs], into: [dGatesByStep, dProjected]) { b in
                try recurrentBackward(q.replacing(b), dOutputs: b[7]!, dGatesByStep: b[8]!, dProjected: b[9]!)
            }
        }
        guard fusesSteps(hidden: q.hidden) else {
            return try RecurrentSchedule.backward(self, q, dOutputs: dOutputs, dGatesByStep: dGatesByStep, dProjected: dProjected)
        }
        // Ping-pong carries: the direct part of ∂h (padding pass-through) and ∂c, zero after the last step.
        let count = q.stateSize
        var dh = [try allocator.allocate(count: count, dtype: .float32), try allocator.allocate(count: count, dtype: .float32)]
        var dc = [try allocator.allocate(count: count, dtype: .float32), try allocator.allocate(count: count, dtype: .float32)]
        try fill(dh[0], offset: 0, count: q.stateSize, value: 0)
        try fill(dc[0], offset: 0, count: q.stateSize, value: 0)
        let kernel = q.cell == .lstm ? "lstm_fused_backward" : "gru_fused_backward"
        let grid = fusedGrid(q)
        for t in (0..<q.steps).reversed() {
            try launch(.recurrent, kernel, global: grid.global, local: grid.local,
                       [.buffer(q.saved), .buffer(q.states), .buffer(q.cells ?? q.states), .buffer(q.recurrentWeight),
                        .buffer(dOutputs), .buffer(dh[0]), .buffer(dc[0])] + maskArguments(q.mask, fallback: dOutputs)
                       + [.buffer(dGatesByStep), .buffer(dProjected), .buffer(dh[1]), .buffer(dc[1]),
                          .int(t), .int(q.steps), .int(q.batch), .int(q.hidden)])
            dh.swapAt(0, 1)
            dc.swapAt(0, 1)
        }
    }

    /// The mask argument pair: a buffer (any, when absent) and whether it is present.
    private func maskArguments(_ mask: DeviceBuffer?, fallback: DeviceBuffer) -> [KernelArgument] {
        [.buffer(mask ?? fallback), .int(mask == nil ? 0 : 1)]
    }

    private func shapeArguments(_ s: RecurrentStep) -> [KernelArgument] {
        [.int(s.step), .int(s.steps), .int(s.batch), .int(s.hidden)]
    }

    package func lstmStepForward(
        _ s: RecurrentStep, projected: DeviceBuffer, hw: DeviceBuffer, hPrev: BufferSlice, cPrev: BufferSlice,
        mask: DeviceBuffer?, gates: BufferSlice, hNext: BufferSlice, cNext: BufferSlice, outputs: DeviceBuffer
    ) throws {
        try launch(.recurrent, "lstm_step_forward", global: [s.batch * s.hidden], local: [parameters.elementwiseWorkGroup],
                   [.buffer(projected), .buffer(hw), .buffer(hPrev.buffer), .int(hPrev.offset), .buffer(cPrev.buffer),
                    .int(cPrev.offset)] + maskArguments(mask, fallback: hw)
                   + [.buffer(gates.buffer), .int(gates.offset), .buffer(hNext.buffer), .int(hNext.offset),
                      .buffer(cNext.buffer), .int(cNext.offset), .buffer(outputs)] + shapeArguments(s))
    }

    package func lstmStepBackward(
        _ s: RecurrentStep, gates: BufferSlice, cPrev: BufferSlice, dOutputs: DeviceBuffer, dhCarry: DeviceBuffer,
        dcCarry: DeviceBuffer, mask: DeviceBuffer?, dGatesByStep: DeviceBuffer, dProjected: DeviceBuffer,
        dhPrev: DeviceBuffer, dcPrev: DeviceBuffer
    ) throws {
        try launch(.recurrent, "lstm_step_backward", global: [s.batch * s.hidden], local: [parameters.elementwiseWorkGroup],
                   [.buffer(gates.buffer), .int(gates.offset), .buffer(cPrev.buffer), .int(cPrev.offset), .buffer(dOutputs),
                    .buffer(dhCarry), .buffer(dcCarry)] + maskArguments(mask, fallback: dOutputs)
                   + [.buffer(dGatesByStep), .buffer(dProjected), .buffer(dhPrev), .buffer(dcPrev)] + shapeArguments(s))
    }

    package func gruStepForward(
        _ s: RecurrentStep, projected: DeviceBuffer, hw: DeviceBuffer, biasHH: DeviceBuffer, hPrev: BufferSlice,
        mask: DeviceBuffer?, saved: BufferSlice, hNext: BufferSlice, outputs: DeviceBuffer
    ) throws {
        try launch(.recurrent, "gru_step_forward", global: [s.batch * s.hidden], local: [parameters.elementwiseWorkGroup],
                   [.buffer(projected), .buffer(hw), .buffer(biasHH), .buffer(hPrev.buffer), .int(hPrev.offset)]
                   + maskArguments(mask, fallback: hw)
                   + [.buffer(saved.buffer), .int(saved.offset), .buffer(hNext.buffer), .int(hNext.offset), .buffer(outputs)]
                   + shapeArguments(s))
    }

    package func gruStepBackward(
        _ s: RecurrentStep, saved: BufferSlice, hPrev: BufferSlice, dOutputs: DeviceBuffer, dhCarry: DeviceBuffer,
        mask: DeviceBuffer?, dGatesByStep: DeviceBuffer, dProjected: DeviceBuffer, dhPrev: DeviceBuffer
    ) throws {
        try launch(.recurrent, "gru_step_backward", global: [s.batch * s.hidden], local: [parameters.elementwiseWorkGroup],
                   [.buffer(saved.buffer), .int(saved.offset), .buffer(hPrev.buffer), .int(hPrev.offset), .buffer(dOutputs),
                    .buffer(dhCarry)] + maskArguments(mask, fallback: dOutputs)
                   + [.buffer(dGatesByStep), .buffer(dProjected), .buffer(dhPrev)] + shapeArguments(s))
    }
}
