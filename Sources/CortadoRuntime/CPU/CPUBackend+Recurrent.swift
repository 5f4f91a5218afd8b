import Foundation

/// Recurrent layers on the CPU: the GEMM-per-step ``RecurrentSchedule`` (OpenBLAS for the products)
/// with the step formulas of `Kernels/recurrent.cl`, eight units at a time with
/// ``VectorTranscendentals`` and the units past the last multiple of eight one by one.
extension CPUBackend: RecurrentStepKernels {
    package func recurrentForward(_ sequence: RecurrentSequence, outputs: DeviceBuffer) throws {
        try RecurrentSchedule.forward(self, sequence, outputs: outputs)
    }

    package func recurrentBackward(
        _ sequence: RecurrentSequence, dOutputs: DeviceBuffer, dGatesByStep: DeviceBuffer, dProjected: DeviceBuffer
    ) throws {
        try RecurrentSchedule.backward(self, sequence, dOutputs: dOutputs, dGatesByStep: dGatesByStep, dProjected: dProjected)
    }

    @inline(__always) private static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }

    private typealias V = SIMD8<Float>
    @inline(__always) private static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }
    @inline(__always) private static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

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
                var j0 = 0
                while j0 + 8 <= hidden {
                    let i = VectorTranscendentals.sigmoid(Self.load(row + j0) + Self.load(rec + j0))
                    let f = VectorTranscendentals.sigmoid(Self.load(row + hidden + j0) + Self.load(rec + hidden + j0))
                    let c = VectorTranscendentals.tanh(Self.load(row + 2 * hidden + j0) + Self.load(rec + 2 * hidden + j0))
                    let o = VectorTranscendentals.sigmoid(Self.load(row + 3 * hidden + j0) + Self.load(rec + 3 * hidden + j0))
                    Self.store(i, g + j0)
                    Self.store(f, g + hidden + j0)
                    Self.store(c, g + 2 * hidden + j0)
                    Self.store(o, g + 3 * hidden + j0)
                    let k = b * hidden + j0
                    let previous = Self.load(cp + k)
                    let cell = f * previous + i * c
                    let h = keep * (o * VectorTranscendentals.tanh(cell)) + (1 - keep) * Self.load(hp + k)
                    Self.store(keep * cell + (1 - keep) * previous, cn + k)
                    Self.store(h, hn + k)
                    Self.store(h, out + (b * steps + t) * hidden + j0)
                    j0 += 8
                }
                for j in j0..<hidden {
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
                var j0 = 0
                while j0 + 8 <= hidden {
                    let (i, f, c, o) = (Self.load(g + j0), Self.load(g + hidden + j0), Self.load(g + 2 * hidden + j0), Self.load(g + 3 * hidden + j0))
                    let k = b * hidden + j0
                    let previous = Self.load(cp + k)
                    let tc = VectorTranscendentals.tanh(f * previous + i * c)
                    let dh = Self.load(dout + (b * steps + t) * hidden + j0) + Self.load(dhc + k)
                    let carried = Self.load(dcc + k)
                    let dhm = keep * dh
                    let dc = keep * carried + dhm * o * (1 - tc * tc)
                    let di = dc * c * i * (1 - i), df = dc * previous * f * (1 - f)
                    let dg = dc * i * (1 - c * c), dO = dhm * tc * o * (1 - o)
                    Self.store(di, x + j0); Self.store(di, y + j0)
                    Self.store(df, x + hidden + j0); Self.store(df, y + hidden + j0)
                    Self.store(dg, x + 2 * hidden + j0); Self.store(dg, y + 2 * hidden + j0)
                    Self.store(dO, x + 3 * hidden + j0); Self.store(dO, y + 3 * hidden + j0)
                    Self.store(dc * f + (1 - keep) * carried, dcp + k)
                    Self.store((1 - keep) * dh, dhp + k)
                    j0 += 8
                }
                for j in j0..<hidden {
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
                var j0 = 0
                while j0 + 8 <= hidden {
                    let r = VectorTranscendentals.sigmoid(Self.load(row + j0) + Self.load(rec + j0) + Self.load(bias + j0))
                    let z = VectorTranscendentals.sigmoid(
                        Self.load(row + hidden + j0) + Self.load(rec + hidden + j0) + Self.load(bias + hidden + j0))
                    let recurrentN = Self.load(rec + 2 * hidden + j0) + Self.load(bias + 2 * hidden + j0)
                    let n = VectorTranscendentals.tanh(Self.load(row + 2 * hidden + j0) + r * recurrentN)
                    Self.store(r, v + j0)
                    Self.store(z, v + hidden + j0)
                    Self.store(n, v + 2 * hidden + j0)
                    Self.store(recurrentN, v + 3 * hidden + j0)
                    let k = b * hidden + j0
                    let previous = Self.load(hp + k)
                    let h = keep * ((1 - z) * n + z * previous) + (1 - keep) * previous
                    Self.store(h, hn + k)
                    Self.store(h, out + (b * steps + t) * hidden + j0)
                    j0 += 8
                }
                for j in j0..<hidden {
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
