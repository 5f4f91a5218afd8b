extension OpenCLBackend {
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
