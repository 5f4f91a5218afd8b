import Foundation

/// The recurrent step formulas of `Kernels/recurrent.cl`, one (batch row, unit) at a time.
extension CPUBackend {
    @inline(__always) private static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }

    package func lstmStepForward(
        _ s: RecurrentStep, projected: DeviceBuffer, hw: DeviceBuffer, hPrev: BufferSlice, cPrev: BufferSlice,
        mask: DeviceBuffer?, gates: BufferSlice, hNext: BufferSlice, cNext: BufferSlice, outputs: DeviceBuffer
    ) throws {
        let (t, steps, hidden) = (s.step, s.steps, s.hidden)
        let p = projected.floats, q = hw.floats, hp = hPrev.buffer.floats + hPrev.offset, cp = cPrev.buffer.floats + cPrev.offset
        let saved = gates.buffer.floats + gates.offset, hn = hNext.buffer.floats + hNext.offset
        let cn = cNext.buffer.floats + cNext.offset, out = outputs.floats, m = mask?.floats
        Parallel.forEach(count: s.batch, grain: max(1, Self.transcendentalGrain / max(4 * hidden, 1))) { rows in
            for b in rows {
                let row = p + (b * steps + t) * 4 * hidden, rec = q + b * 4 * hidden, g = saved + b * 4 * hidden
                let keep = m.map { $0[b * steps + t] } ?? 1
                for j in 0..<hidden {
                    let i = Self.sigmoid(row[j] + rec[j])
                    let f = Self.sigmoid(row[hidden + j] + rec[hidden + j])
                    let c = Foundation.tanh(row[2 * hidden + j] + rec[2 * hidden + j])
                    let o = Self.sigmoid(row[3 * hidden + j] + rec[3 * hidden + j])
                    g[j] = i
                    g[hidden + j] = f
                    g[2 * hidden + j] = c
                    g[3 * hidden + j] = o
                    let k = b * hidden + j
                    let cell = f * cp[k] + i * c
                    let h = keep * (o * Foundation.tanh(cell)) + (1 - keep) * hp[k]
                    cn[k] = keep * cell + (1 - keep) * cp[k]
                    hn[k] = h
                    out[(b * steps + t) * hidden + j] = h
                }
            }
        }
    }

    package func lstmStepBackward(
        _ s: RecurrentStep, gates: BufferSlice, cPrev: BufferSlice, dOutputs: DeviceBuffer, dhCarry: DeviceBuffer,
        dcCarry: DeviceBuffer, mask: DeviceBuffer?, dGatesByStep: DeviceBuffer, dProjected: DeviceBuffer,
        dhPrev: DeviceBuffer, dcPrev: DeviceBuffer
    ) throws {
        let (t, steps, batch, hidden) = (s.step, s.steps, s.batch, s.hidden)
        let saved = gates.buffer.floats + gates.offset, cp = cPrev.buffer.floats + cPrev.offset
        let dout = dOutputs.floats, dhc = dhCarry.floats, dcc = dcCarry.floats, m = mask?.floats
        let byStep = dGatesByStep.floats, byBatch = dProjected.floats, dhp = dhPrev.floats, dcp = dcPrev.floats
        Parallel.forEach(count: batch, grain: max(1, Self.transcendentalGrain / max(4 * hidden, 1))) { rows in
            for b in rows {
                let g = saved + b * 4 * hidden
                let x = byStep + (t * batch + b) * 4 * hidden, y = byBatch + (b * steps + t) * 4 * hidden
                let keep = m.map { $0[b * steps + t] } ?? 1
                for j in 0..<hidden {
                    let (i, f, c, o) = (g[j], g[hidden + j], g[2 * hidden + j], g[3 * hidden + j])
                    let k = b * hidden + j
                    let tc = Foundation.tanh(f * cp[k] + i * c)
                    let dh = dout[(b * steps + t) * hidden + j] + dhc[k]
                    let dhm = keep * dh
                    let dc = keep * dcc[k] + dhm * o * (1 - tc * tc)
                    let gradients = (dc * c * i * (1 - i), dc * cp[k] * f * (1 - f), dc * i * (1 - c * c), dhm * tc * o * (1 - o))
                    x[j] = gradients.0; y[j] = gradients.0
                    x[hidden + j] = gradients.1; y[hidden + j] = gradients.1
                    x[2 * hidden + j] = gradients.2; y[2 * hidden + j] = gradients.2
                    x[3 * hidden + j] = gradients.3; y[3 * hidden + j] = gradients.3
                    dcp[k] = dc * f + (1 - keep) * dcc[k]
                    dhp[k] = (1 - keep) * dh
                }
            }
        }
    }

    package func gruStepForward(
        _ s: RecurrentStep, projected: DeviceBuffer, hw: DeviceBuffer, biasHH: DeviceBuffer, hPrev: BufferSlice,
        mask: DeviceBuffer?, saved: BufferSlice, hNext: BufferSlice, outputs: DeviceBuffer
    ) throws {
        let (t, steps, hidden) = (s.step, s.steps, s.hidden)
        let p = projected.floats, q = hw.floats, bias = biasHH.floats, hp = hPrev.buffer.floats + hPrev.offset
        let keepers = saved.buffer.floats + saved.offset, hn = hNext.buffer.floats + hNext.offset, out = outputs.floats
        let m = mask?.floats
        Parallel.forEach(count: s.batch, grain: max(1, Self.transcendentalGrain / max(3 * hidden, 1))) { rows in
            for b in rows {
                let row = p + (b * steps + t) * 3 * hidden, rec = q + b * 3 * hidden, v = keepers + b * 4 * hidden
                let keep = m.map { $0[b * steps + t] } ?? 1
                for j in 0..<hidden {
                    let r = Self.sigmoid(row[j] + rec[j] + bias[j])
                    let z = Self.sigmoid(row[hidden + j] + rec[hidden + j] + bias[hidden + j])
                    let recurrentN = rec[2 * hidden + j] + bias[2 * hidden + j]
                    let n = Foundation.tanh(row[2 * hidden + j] + r * recurrentN)
                    v[j] = r
                    v[hidden + j] = z
                    v[2 * hidden + j] = n
                    v[3 * hidden + j] = recurrentN
                    let k = b * hidden + j
                    let h = keep * ((1 - z) * n + z * hp[k]) + (1 - keep) * hp[k]
                    hn[k] = h
                    out[(b * steps + t) * hidden + j] = h
                }
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
        Parallel.forEach(count: batch, grain: max(1, Self.transcendentalGrain / max(3 * hidden, 1))) { rows in
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
