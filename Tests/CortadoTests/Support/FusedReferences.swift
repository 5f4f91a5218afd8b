import Foundation

/// Double-precision LayerNorm, written as plainly as possible.
enum LayerNormReference {
    /// `y`, and the gradients `dx`, `dweight`, `dbias` for output gradient `dy`, over rows of `width`.
    static func run(
        _ x: [Float], width: Int, weight: [Float]?, bias: [Float]?, epsilon: Double, dy: [Float]
    ) -> (y: [Float], dx: [Float], dWeight: [Float], dBias: [Float]) {
        let rows = x.count / width
        var y = [Float](repeating: 0, count: x.count), dx = y
        var dWeight = [Double](repeating: 0, count: width), dBias = dWeight
        for r in 0..<rows {
            let row = (0..<width).map { Double(x[r * width + $0]) }
            let mean = row.reduce(0, +) / Double(width)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(width)
            let rstd = 1 / (variance + epsilon).squareRoot()
            let xhat = row.map { ($0 - mean) * rstd }
            var g = [Double](repeating: 0, count: width)
            for j in 0..<width {
                let w = weight.map { Double($0[j]) } ?? 1
                y[r * width + j] = Float(xhat[j] * w + (bias.map { Double($0[j]) } ?? 0))
                let d = Double(dy[r * width + j])
                g[j] = d * w
                dWeight[j] += d * xhat[j]
                dBias[j] += d
            }
            let meanG = g.reduce(0, +) / Double(width)
            let meanGX = zip(g, xhat).map { $0 * $1 }.reduce(0, +) / Double(width)
            for j in 0..<width { dx[r * width + j] = Float(rstd * (g[j] - meanG - xhat[j] * meanGX)) }
        }
        return (y, dx, dWeight.map(Float.init), dBias.map(Float.init))
    }
}

/// Double-precision scaled dot-product attention over `[batch, heads, length, headSize]` arrays
/// with a `[batch, keys]` mask (0: the key is ignored; a query with no key left gets zeros).
enum AttentionReference {
    /// The shapes.
    struct Shape {
        var batch: Int, heads: Int, queries: Int, keys: Int, headSize: Int
        var scale: Double { 1 / Double(headSize).squareRoot() }
    }

    /// `out`, and the gradients `dq`, `dk`, `dv` for output gradient `dOut`.
    static func run(
        _ q: [Float], _ k: [Float], _ v: [Float], mask: [Float]?, _ s: Shape, dOut: [Float]
    ) -> (out: [Float], dq: [Float], dk: [Float], dv: [Float]) {
        let (nq, nk, d) = (s.queries, s.keys, s.headSize)
        var out = [Float](repeating: 0, count: q.count), dq = out
        var dk = [Float](repeating: 0, count: k.count), dv = dk
        for pair in 0..<(s.batch * s.heads) {
            let b = pair / s.heads
            let (qb, kb) = (pair * nq * d, pair * nk * d)
            let attended = (0..<nk).filter { mask == nil || mask![b * nk + $0] != 0 }
            var dkAcc = [Double](repeating: 0, count: nk * d), dvAcc = dkAcc
            for i in 0..<nq {
                guard !attended.isEmpty else { continue }
                var scores = [Double](repeating: 0, count: nk)
                for j in attended {
                    var dot = 0.0
                    for c in 0..<d { dot += Double(q[qb + i * d + c]) * Double(k[kb + j * d + c]) }
                    scores[j] = dot * s.scale
                }
                let m = attended.map { scores[$0] }.max()!
                let total = attended.map { exp(scores[$0] - m) }.reduce(0, +)
                var p = [Double](repeating: 0, count: nk)
                for j in attended { p[j] = exp(scores[j] - m) / total }
                let g = (0..<d).map { Double(dOut[qb + i * d + $0]) }
                var dp = [Double](repeating: 0, count: nk)
                for c in 0..<d {
                    var acc = 0.0
                    for j in attended { acc += p[j] * Double(v[kb + j * d + c]) }
                    out[qb + i * d + c] = Float(acc)
                }
                for j in attended {
                    for c in 0..<d { dp[j] += g[c] * Double(v[kb + j * d + c]) }
                }
                let delta = attended.map { p[$0] * dp[$0] }.reduce(0, +)
                var dqRow = [Double](repeating: 0, count: d)
                for j in attended {
                    let ds = p[j] * (dp[j] - delta)
                    for c in 0..<d {
                        dqRow[c] += ds * Double(k[kb + j * d + c]) * s.scale
                        dkAcc[j * d + c] += ds * Double(q[qb + i * d + c]) * s.scale
                        dvAcc[j * d + c] += p[j] * g[c]
                    }
                }
                for c in 0..<d { dq[qb + i * d + c] = Float(dqRow[c]) }
            }
            for e in 0..<(nk * d) {
                dk[kb + e] = Float(dkAcc[e])
                dv[kb + e] = Float(dvAcc[e])
            }
        }
        return (out, dq, dk, dv)
    }
}
