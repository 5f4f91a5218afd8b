import CVectorMath
import Foundation

/// Recurrent layers on the CPU: the GEMM-per-step ``RecurrentSchedule`` (OpenBLAS for the products)
/// with the step formulas of `Kernels/recurrent.cl` in CVectorMath's vectorised cells (the GRU's
/// backward, which has no transcendental function, stays a plain loop here).
extension CPUBackend: RecurrentStepKernels {
    package func recurrentForward(_ sequence: RecurrentSequence, outputs: DeviceBuffer) throws {
        try RecurrentSchedule.forward(self, sequence, outputs: outputs)
    }

    package func recurrentBackward(
        _ sequence: RecurrentSequence, dOutputs: DeviceBuffer, dGatesByStep: DeviceBuffer, dProjected: DeviceBuffer
    ) throws {
        try RecurrentSchedule.backward(self, sequence, dOutputs: dOutputs, dGatesByStep: dGatesByStep, dProjected: dProjected)
    }

    /// Batch rows per parallel piece: 2¹⁵ gate values (about 20 µs with AVX-512). A batch of 32 rows
    /// of 128 LSTM units is one piece: waking a second thread every step cost more than it saved
    /// (lstm training step 984–1038 → 1076–1119 samples/s with this grain instead of 2¹²).
    private static func rowGrain(_ s: RecurrentStep, gates: Int) -> Int {
        max(1, (1 << 15) / max(gates * s.hidden, 1))
    }

    package func lstmStepForward(
        _ s: RecurrentStep, projected: DeviceBuffer, hw: DeviceBuffer, hPrev: BufferSlice, cPrev: BufferSlice,
        mask: DeviceBuffer?, gates: BufferSlice, hNext: BufferSlice, cNext: BufferSlice, outputs: DeviceBuffer
    ) throws {
        let cell = cortado_vm_lstm_forward_step(
            projected: projected.floats, recurrent: hw.floats, h_prev: hPrev.buffer.floats + hPrev.offset,
            c_prev: cPrev.buffer.floats + cPrev.offset, mask: mask.map { UnsafePointer($0.floats) },
            gates: gates.buffer.floats + gates.offset, h_next: hNext.buffer.floats + hNext.offset,
            c_next: cNext.buffer.floats + cNext.offset, outputs: outputs.floats,
            step: s.step, steps: s.steps, hidden: s.hidden)
        // One read-only description shared by the pieces (an inout `&cell` per piece would be
        // simultaneous accesses).
        withUnsafePointer(to: cell) { shared in
            Parallel.forEach(count: s.batch, grain: Self.rowGrain(s, gates: 4)) { rows in
                cortado_vm_lstm_forward(shared, rows.lowerBound, rows.count)
            }
        }
    }

    package func lstmStepBackward(
        _ s: RecurrentStep, gates: BufferSlice, cPrev: BufferSlice, dOutputs: DeviceBuffer, dhCarry: DeviceBuffer,
        dcCarry: DeviceBuffer, mask: DeviceBuffer?, dGatesByStep: DeviceBuffer, dProjected: DeviceBuffer,
        dhPrev: DeviceBuffer, dcPrev: DeviceBuffer
    ) throws {
        let cell = cortado_vm_lstm_backward_step(
            gates: gates.buffer.floats + gates.offset, c_prev: cPrev.buffer.floats + cPrev.offset,
            d_outputs: dOutputs.floats, dh_carry: dhCarry.floats, dc_carry: dcCarry.floats,
            mask: mask.map { UnsafePointer($0.floats) }, d_gates_by_step: dGatesByStep.floats,
            d_projected: dProjected.floats, dh_prev: dhPrev.floats, dc_prev: dcPrev.floats,
            step: s.step, steps: s.steps, batch: s.batch, hidden: s.hidden)
        // One read-only description shared by the pieces (an inout `&cell` per piece would be
        // simultaneous accesses).
        withUnsafePointer(to: cell) { shared in
            Parallel.forEach(count: s.batch, grain: Self.rowGrain(s, gates: 4)) { rows in
                cortado_vm_lstm_backward(shared, rows.lowerBound, rows.count)
            }
        }
    }

    package func gruStepForward(
        _ s: RecurrentStep, projected: DeviceBuffer, hw: DeviceBuffer, biasHH: DeviceBuffer, hPrev: BufferSlice,
        mask: DeviceBuffer?, saved: BufferSlice, hNext: BufferSlice, outputs: DeviceBuffer
    ) throws {
        let cell = cortado_vm_gru_forward_step(
            projected: projected.floats, recurrent: hw.floats, bias_hh: biasHH.floats,
            h_prev: hPrev.buffer.floats + hPrev.offset, mask: mask.map { UnsafePointer($0.floats) },
            saved: saved.buffer.floats + saved.offset, h_next: hNext.buffer.floats + hNext.offset,
            outputs: outputs.floats, step: s.step, steps: s.steps, hidden: s.hidden)
        // One read-only description shared by the pieces (an inout `&cell` per piece would be
        // simultaneous accesses).
        withUnsafePointer(to: cell) { shared in
            Parallel.forEach(count: s.batch, grain: Self.rowGrain(s, gates: 3)) { rows in
                cortado_vm_gru_forward(shared, rows.lowerBound, rows.count)
            }
        }
    }

    package func gruStepBackward(
        _ s: RecurrentStep, saved: BufferSlice, hPrev: BufferSlice, dOutputs: DeviceBuffer, dhCarry: DeviceBuffer,
        mask: DeviceBuffer?, dGatesByStep: DeviceBuffer, dProjected: DeviceBuffer, dhPrev: DeviceBuffer
    ) throws {
        let (t, steps, batch, hidden) = (s.step, s.steps, s.batch, s.hidden)
        let v = saved.buffer.floats + saved.offset, hp = hPrev.buffer.floats + hPrev.offset
        let dout = dOutputs.floats, dhc = dhCarry.floats, m = mask?.floats
        let byStep = dGatesByStep.floats, byBatch = dProjected.floats, dhp = dhPrev.floats
        Parallel.forEach(count: batch, grain: Self.rowGrain(s, gates: 3)) { rows in
            for b in rows {
                let g = v + b * 4 * hidden
                let x = byStep + (t * batch + b) * 3 * hidden, y = byBatch + (b * steps + t) * 3 * hidden
                let keep = m.map { $0[b * steps + t] } ?? 1
                for j in 0..<hidden {
                    let (r, z, n, recurrentN) = (g[j], g[hidden + j], g[2 * hidden + j], g[3 * hidden + j])
                    let k = b * hidden + j
                    let dh = dout[(b * steps + t) * hidden + j] + dhc[k]
                    let dhm = keep * dh
                    let dn = dhm * (1 - z) * (1 - n * n)
                    let dz = dhm * (hp[k] - n) * z * (1 - z)
                    let dr = dn * recurrentN * r * (1 - r)
                    x[j] = dr; y[j] = dr
                    x[hidden + j] = dz; y[hidden + j] = dz
                    y[2 * hidden + j] = dn
                    x[2 * hidden + j] = dn * r
                    dhp[k] = dhm * z + (1 - keep) * dh
                }
            }
        }
    }
}
