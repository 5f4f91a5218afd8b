import CVectorMath
import Foundation

/// Recurrent layers on the CPU. The rows of a batch are independent through time, so the batch is
/// split into one block of rows per core and each core runs the whole sequence for its rows: per
/// step the recurrent product against `W_hh` packed once for the sequence
/// (`cortado_vm_gemm_packed`), then the step formulas of `Kernels/recurrent.cl` in CVectorMath's
/// vectorised cells (the GRU's backward, which has no transcendental function, stays a plain loop
/// here). The cores meet once per sequence rather than at every step, and a row's result does not
/// depend on the split.
extension CPUBackend {
    package func recurrentForward(_ q: RecurrentSequence, outputs: DeviceBuffer) throws {
        if q.projected.dtype.isHalf {
            return try widening(q.inputs, updating: q.histories, into: [q.saved, outputs]) { b in
                try recurrentForward(q.replacing(b), outputs: b[7]!)
            }
        }
        let width = q.cell.gates * q.hidden
        // W_hhᵀ [hidden, width] as the right operand: element (k, n) is W_hh[n, k].
        let packed = try packedPanels(q.recurrentWeight, rowStride: 1, columnStride: q.hidden, k: q.hidden, n: width)
        let hw = try allocator.allocate(count: q.batch * width, dtype: .float32)
        defer { withExtendedLifetime(hw) {} }  // `product` points into it
        let (states, cells, saved) = (q.states.floats, q.cells?.floats, q.saved.floats)
        let (projected, product, out, mask) = (q.projected.floats, hw.floats, outputs.floats, q.mask.map { UnsafePointer($0.floats) })
        let (stateSize, hidden) = (q.stateSize, q.hidden)
        let bias = q.recurrentBias.map { UnsafePointer($0.floats) }
        guard q.cell == .gru || cells != nil else { throw CortadoError.invalidArgument("an LSTM pass needs cell states") }
        guard q.cell == .lstm || bias != nil else { throw CortadoError.invalidArgument("a GRU pass needs its recurrent bias") }
        Parallel.forEach(count: q.batch, grain: Self.rowGrain(q)) { rows in
            let first = rows.lowerBound
            for t in 0..<q.steps {
                let (hPrev, hNext) = (states + t * stateSize, states + (t + 1) * stateSize)
                cortado_vm_gemm_packed(
                    hPrev + first * hidden, hidden, rows.count, packed.floats, hidden, width, product + first * width, width, 0)
                if let cells {
                    var cell = cortado_vm_lstm_forward_step(
                        projected: projected, recurrent: product, h_prev: hPrev, c_prev: cells + t * stateSize, mask: mask,
                        gates: saved + t * 4 * stateSize, h_next: hNext, c_next: cells + (t + 1) * stateSize,
                        outputs: out, step: t, steps: q.steps, hidden: hidden)
                    cortado_vm_lstm_forward(&cell, first, rows.count)
                } else {
                    var cell = cortado_vm_gru_forward_step(
                        projected: projected, recurrent: product, bias_hh: bias, h_prev: hPrev, mask: mask,
                        saved: saved + t * 4 * stateSize, h_next: hNext, outputs: out, step: t, steps: q.steps, hidden: hidden)
                    cortado_vm_gru_forward(&cell, first, rows.count)
                }
            }
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
        let (width, hidden, stateSize) = (q.cell.gates * q.hidden, q.hidden, q.stateSize)
        // W_hh [width, hidden] as the right operand of ∂h_{t−1} += ∂gates_t · W_hh.
        let packed = try packedPanels(q.recurrentWeight, rowStride: hidden, columnStride: 1, k: width, n: hidden)
        // ∂h and ∂c ping-pong between two halves of one scratch buffer; the carries into the last
        // step are zero.
        let scratch = try allocator.allocate(count: 4 * stateSize, dtype: .float32)
        try fill(scratch, offset: 0, count: 4 * stateSize, value: 0)
        defer { withExtendedLifetime(scratch) {} }  // `dh` and `dc` point into it
        let dh = [scratch.floats, scratch.floats + stateSize], dc = [scratch.floats + 2 * stateSize, scratch.floats + 3 * stateSize]
        let (saved, states, cells) = (q.saved.floats, q.states.floats, q.cells?.floats)
        let (dOut, byStep, byBatch) = (dOutputs.floats, dGatesByStep.floats, dProjected.floats)
        let mask = q.mask.map { UnsafePointer($0.floats) }
        guard q.cell == .gru || cells != nil else { throw CortadoError.invalidArgument("an LSTM pass needs cell states") }
        Parallel.forEach(count: q.batch, grain: Self.rowGrain(q)) { rows in
            let first = rows.lowerBound
            var (carry, next) = (0, 1)
            for t in (0..<q.steps).reversed() {
                if let cells {
                    var cell = cortado_vm_lstm_backward_step(
                        gates: saved + t * 4 * stateSize, c_prev: cells + t * stateSize, d_outputs: dOut,
                        dh_carry: dh[carry], dc_carry: dc[carry], mask: mask, d_gates_by_step: byStep,
                        d_projected: byBatch, dh_prev: dh[next], dc_prev: dc[next],
                        step: t, steps: q.steps, batch: q.batch, hidden: hidden)
                    cortado_vm_lstm_backward(&cell, first, rows.count)
                } else {
                    Self.gruStepBackward(
                        step: t, of: q, rows: rows,
                        saved: saved + t * 4 * stateSize, hPrev: states + t * stateSize, dOutputs: dOut,
                        dhCarry: dh[carry], mask: mask, dGatesByStep: byStep, dProjected: byBatch, dhPrev: dh[next])
                }
                if t > 0 {  // ∂h_0 is not needed: the initial state is a constant zero.
                    cortado_vm_gemm_packed(
                        byStep + (t * q.batch + first) * width, width, rows.count, packed.floats, width, hidden,
                        dh[next] + first * hidden, hidden, 1)
                }
                swap(&carry, &next)
            }
        }
    }

    /// `b` (element (i, j) at `i · rowStride + j · columnStride`, k × n) packed for `cortado_vm_gemm_packed`.
    private func packedPanels(_ b: DeviceBuffer, rowStride: Int, columnStride: Int, k: Int, n: Int) throws -> DeviceBuffer {
        let packed = try allocator.allocate(count: cortado_vm_packed_count(k, n), dtype: .float32)
        cortado_vm_pack_panels(b.floats, rowStride, columnStride, k, n, packed.floats)
        return packed
    }

    /// Batch rows per core: whole tiles of eight rows, and enough work over the sequence (about
    /// 2²² multiply-adds, some 40 µs) to pay for waking another core.
    private static func rowGrain(_ q: RecurrentSequence) -> Int {
        let work = 2 * q.hidden * q.cell.gates * q.hidden * q.steps
        return max(8, (1 << 22) / max(work, 1))
    }

    /// The backward pass of GRU step `t` for `rows`: gate gradients toward the projected inputs and toward the
    /// recurrent product, and the direct part of `dhPrev`.
    private static func gruStepBackward(
        step t: Int, of q: RecurrentSequence, rows: Range<Int>, saved: UnsafeMutablePointer<Float>, hPrev: UnsafeMutablePointer<Float>,
        dOutputs: UnsafeMutablePointer<Float>, dhCarry: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>?,
        dGatesByStep: UnsafeMutablePointer<Float>, dProjected: UnsafeMutablePointer<Float>, dhPrev: UnsafeMutablePointer<Float>
    ) {
        let (steps, batch, hidden) = (q.steps, q.batch, q.hidden)
        for b in rows {
            let g = saved + b * 4 * hidden
            let x = dGatesByStep + (t * batch + b) * 3 * hidden, y = dProjected + (b * steps + t) * 3 * hidden
            let keep = mask.map { $0[b * steps + t] } ?? 1
            for j in 0..<hidden {
                let (r, z, n, recurrentN) = (g[j], g[hidden + j], g[2 * hidden + j], g[3 * hidden + j])
                let k = b * hidden + j
                let dh = dOutputs[(b * steps + t) * hidden + j] + dhCarry[k]
                let dhm = keep * dh
                let dn = dhm * (1 - z) * (1 - n * n)
                let dz = dhm * (hPrev[k] - n) * z * (1 - z)
                let dr = dn * recurrentN * r * (1 - r)
                x[j] = dr; y[j] = dr
                x[hidden + j] = dz; y[hidden + j] = dz
                y[2 * hidden + j] = dn
                x[2 * hidden + j] = dn * r
                dhPrev[k] = dhm * z + (1 - keep) * dh
            }
        }
    }
}
