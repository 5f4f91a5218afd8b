import COpenBLAS
import CVectorMath
import Foundation

/// Row loops of the attention softmax, eight floats at a time.
enum AttentionRows {
    typealias V = SIMD8<Float>

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>, _ i: Int) -> V {
        UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
    }

    @inline(__always)
    private static func store(_ value: V, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: value, as: V.self)
    }

    /// Adds `bias` (0 for an attended key, −∞ for a masked one) to a row of scores.
    @inline(__always)
    static func addBias(_ row: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n {
            store(load(row, i) + load(bias, i), row, i)
            i += 8
        }
        while i < n {
            row[i] += bias[i]
            i += 1
        }
    }

    /// The larger of each pair of lanes (`b` where either is NaN), with integer lane operations: the
    /// standard library's `pointwiseMax` is not inlined here and cost a call per eight lanes.
    @inline(__always)
    private static func maximum(_ a: V, _ b: V) -> V {
        typealias I = SIMD8<Int32>
        let aGreater = unsafeBitCast(b - a, to: I.self) &>> 31  // all ones where a > b
        return unsafeBitCast(
            (unsafeBitCast(b, to: I.self) & ~aGreater) | (unsafeBitCast(a, to: I.self) & aGreater), to: V.self)
    }

    /// The largest element (−∞ for a row of −∞).
    @inline(__always)
    static func max(_ row: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: -.infinity)
        var i = 0
        while i + 8 <= n {
            acc = maximum(acc, load(row, i))
            i += 8
        }
        var best = acc.max()
        while i < n {
            best = Swift.max(best, row[i])
            i += 1
        }
        return best
    }

    /// Σ a[i]·b[i].
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V.zero
        var i = 0
        while i + 8 <= n {
            acc += load(a, i) * load(b, i)
            i += 8
        }
        var total = acc.sum()
        while i < n {
            total += a[i] * b[i]
            i += 1
        }
        return total
    }

    /// Turns a row of scaled, masked scores into probabilities in place and returns its
    /// log-sum-exp; a row with no finite score (every key masked) becomes zeros, with −∞.
    @inline(__always)
    static func softmax(_ row: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        let m = max(row, n)
        guard m > -.infinity else {
            row.update(repeating: 0, count: n)
            return -.infinity
        }
        cortado_vm_exp(row, row, n, m)
        let total = VectorMath.sum(row, n)
        let inverse = V(repeating: 1 / total)
        var i = 0
        while i + 8 <= n {
            store(load(row, i) * inverse, row, i)
            i += 8
        }
        while i < n {
            row[i] *= inverse[0]
            i += 1
        }
        return m + Foundation.log(total)
    }

    /// Recomputes a row of probabilities in place from its scores and log-sum-exp (zeros for −∞).
    @inline(__always)
    static func probabilities(_ row: UnsafeMutablePointer<Float>, _ n: Int, logsumexp: Float) {
        guard logsumexp > -.infinity else {
            row.update(repeating: 0, count: n)
            return
        }
        cortado_vm_exp(row, row, n, logsumexp)
    }

    /// `ds = p · (dp − delta)` in place of `dp`.
    @inline(__always)
    static func scoreGradient(_ p: UnsafePointer<Float>, _ dp: UnsafeMutablePointer<Float>, _ n: Int, delta: Float) {
        let d = V(repeating: delta)
        var i = 0
        while i + 8 <= n {
            store(load(p, i) * (load(dp, i) - d), dp, i)
            i += 8
        }
        while i < n {
            dp[i] = p[i] * (dp[i] - delta)
            i += 1
        }
    }
}

/// Attention on the CPU: per (batch, head), `cblas_sgemm` for the products and the vectorised
/// masked softmax between them, on a `[queries, keys]` score matrix in per-core scratch memory.
extension CPUBackend {
    /// The grain of the loop over (batch, head) pairs: pairs run in parallel while one pair's
    /// products are small enough for OpenBLAS to run each on one thread (m·n·k below 2¹⁸);
    /// larger ones run one pair at a time and let OpenBLAS thread the products.
    private static func attentionGrain(_ g: AttentionGeometry) -> Int {
        g.queries * g.keys * g.headSize < 1 << 18 ? 1 : Int.max
    }

    /// The score bias of the sample a (batch, head) pair belongs to: 0 for an attended key, −∞ for a
    /// masked one. A loop over pairs refills it only when it reaches the next sample.
    private struct MaskBias {
        let mask: UnsafePointer<Float>?
        let row: UnsafeMutablePointer<Float>
        let keys: Int, heads: Int
        private var sample = -1

        init(mask: UnsafePointer<Float>?, row: UnsafeMutablePointer<Float>, keys: Int, heads: Int) {
            (self.mask, self.row, self.keys, self.heads) = (mask, row, keys, heads)
        }

        /// The bias row for `pair`, or `nil` without a mask.
        mutating func row(forPair pair: Int) -> UnsafePointer<Float>? {
            guard let mask else { return nil }
            if pair / heads != sample {
                sample = pair / heads
                for j in 0..<keys { row[j] = mask[sample * keys + j] == 0 ? -.infinity : 0 }
            }
            return UnsafePointer(row)
        }
    }

    /// `S = scale · Q·Kᵀ + mask bias` for one pair into `scores` `[queries, keys]`.
    private static func scores(
        _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ g: AttentionGeometry,
        into scores: UnsafeMutablePointer<Float>
    ) {
        let (nq, nk, d, ld) = (Int32(g.queries), Int32(g.keys), Int32(g.headSize), Int32(g.rowStride))
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nk, d, g.scale, q, ld, k, ld, 0, scores, nk)
        if let bias {
            for i in 0..<g.queries { AttentionRows.addBias(scores + i * g.keys, bias, g.keys) }
        }
    }

    /// Per pair: `S = scale·Q·Kᵀ` (one `cblas_sgemm`), the masked softmax in place, `out = P·V`.
    package func attention(
        _ q: DeviceBuffer, _ k: DeviceBuffer, _ v: DeviceBuffer, keyMask: DeviceBuffer?, _ g: AttentionGeometry,
        into out: DeviceBuffer, logsumexp: DeviceBuffer
    ) throws {
        if q.dtype.isHalf {
            return try widening([q, k, v, keyMask], into: [out, logsumexp]) { b in
                try attention(b[0]!, b[1]!, b[2]!, keyMask: b[3], g, into: b[4]!, logsumexp: b[5]!)
            }
        }
        let (nq, nk, d) = (g.queries, g.keys, g.headSize)
        guard g.pairs > 0, nq > 0, nk > 0, d > 0 else { return }
        let grain = Self.attentionGrain(g)
        let perPiece = nq * nk + nk
        let scratch = try allocator.allocate(count: Parallel.pieces(count: g.pairs, grain: grain) * perPiece, dtype: .float32)
        let (qs, ks, vs, os, lse) = (q.floats, k.floats, v.floats, out.floats, logsumexp.floats)
        let mask = keyMask.map { UnsafePointer($0.floats) }
        Parallel.forEachPiece(count: g.pairs, grain: grain) { piece, range in
            let scores = scratch.floats + piece * perPiece
            var bias = MaskBias(mask: mask, row: scores + nq * nk, keys: nk, heads: g.heads)
            for pair in range {
                let (queryAt, keyAt) = (g.rowOffset(pair: pair, length: nq), g.rowOffset(pair: pair, length: nk))
                Self.scores(qs + queryAt, ks + keyAt, bias: bias.row(forPair: pair), g, into: scores)
                for i in 0..<nq { lse[pair * nq + i] = AttentionRows.softmax(scores + i * nk, nk) }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(nq), Int32(d), Int32(nk), 1,
                            scores, Int32(nk), vs + keyAt, Int32(g.rowStride), 0, os + queryAt, Int32(g.rowStride))
            }
        }
    }

    /// Per pair: `P` recomputed from the scores and `logsumexp`, then five `cblas_sgemm` calls.
    package func attentionBackward(
        _ q: DeviceBuffer, _ k: DeviceBuffer, _ v: DeviceBuffer, keyMask: DeviceBuffer?, _ g: AttentionGeometry,
        out: DeviceBuffer, dOut: DeviceBuffer, logsumexp: DeviceBuffer, dq: DeviceBuffer, dk: DeviceBuffer, dv: DeviceBuffer
    ) throws {
        if q.dtype.isHalf {
            return try widening([q, k, v, keyMask, out, dOut, logsumexp], into: [dq, dk, dv]) { b in
                try attentionBackward(b[0]!, b[1]!, b[2]!, keyMask: b[3], g, out: b[4]!, dOut: b[5]!, logsumexp: b[6]!,
                                      dq: b[7]!, dk: b[8]!, dv: b[9]!)
            }
        }
        let (nq, nk, d) = (g.queries, g.keys, g.headSize)
        guard g.pairs > 0, nq > 0, nk > 0, d > 0 else { return }
        let grain = Self.attentionGrain(g)
        let perPiece = 2 * nq * nk + nk
        let scratch = try allocator.allocate(count: Parallel.pieces(count: g.pairs, grain: grain) * perPiece, dtype: .float32)
        let (qs, ks, vs, os, gs, lse) = (q.floats, k.floats, v.floats, out.floats, dOut.floats, logsumexp.floats)
        let (dqs, dks, dvs) = (dq.floats, dk.floats, dv.floats)
        let mask = keyMask.map { UnsafePointer($0.floats) }
        let (m, n, depth, ld) = (Int32(nq), Int32(nk), Int32(d), Int32(g.rowStride))
        Parallel.forEachPiece(count: g.pairs, grain: grain) { piece, range in
            let p = scratch.floats + piece * perPiece
            let dp = p + nq * nk
            var bias = MaskBias(mask: mask, row: dp + nq * nk, keys: nk, heads: g.heads)
            for pair in range {
                let (queryAt, keyAt) = (g.rowOffset(pair: pair, length: nq), g.rowOffset(pair: pair, length: nk))
                let (qp, kp, vp) = (qs + queryAt, ks + keyAt, vs + keyAt)
                let (op, gp) = (os + queryAt, gs + queryAt)
                Self.scores(qp, kp, bias: bias.row(forPair: pair), g, into: p)
                for i in 0..<nq { AttentionRows.probabilities(p + i * nk, nk, logsumexp: lse[pair * nq + i]) }
                // dV = Pᵀ·dO; dP = dO·Vᵀ; dS = P ∘ (dP − rowsum(dO ∘ O)); dQ = scale·dS·K; dK = scale·dSᵀ·Q.
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, depth, m, 1, p, n, gp, ld, 0, dvs + keyAt, ld)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, depth, 1, gp, ld, vp, ld, 0, dp, n)
                for i in 0..<nq {
                    let delta = AttentionRows.dot(op + i * g.rowStride, gp + i * g.rowStride, d)
                    AttentionRows.scoreGradient(p + i * nk, dp + i * nk, nk, delta: delta)
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, depth, n, g.scale, dp, n, kp, ld, 0, dqs + queryAt, ld)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, depth, m, g.scale, dp, n, qp, ld, 0, dks + keyAt, ld)
            }
        }
    }
}
