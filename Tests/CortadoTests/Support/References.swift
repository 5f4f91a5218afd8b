import Foundation

/// Plain, obviously-correct host implementations that the tests compare the backends against.
enum Reference {
    /// Row-major strides.
    static func strides(_ shape: [Int]) -> [Int] {
        var result = [Int](repeating: 1, count: shape.count)
        var step = 1
        for i in shape.indices.reversed() {
            result[i] = step
            step *= shape[i]
        }
        return result
    }

    /// Multi-index of linear index `i` in `shape`.
    static func index(_ i: Int, _ shape: [Int]) -> [Int] {
        var rest = i
        var result = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() {
            result[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return result
    }

    /// NumPy-broadcast elementwise `f(a, b)`.
    static func broadcast(
        _ a: [Float], _ aShape: [Int], _ b: [Float], _ bShape: [Int], _ f: (Double, Double) -> Double
    ) -> (values: [Float], shape: [Int]) {
        let rank = max(aShape.count, bShape.count)
        let pa = [Int](repeating: 1, count: rank - aShape.count) + aShape
        let pb = [Int](repeating: 1, count: rank - bShape.count) + bShape
        let shape = zip(pa, pb).map { max($0, $1) }
        let (sa, sb) = (strides(pa), strides(pb))
        let count = shape.reduce(1, *)
        let values = (0..<count).map { i -> Float in
            let idx = index(i, shape)
            var ia = 0, ib = 0
            for d in 0..<rank {
                ia += (pa[d] == 1 ? 0 : idx[d]) * sa[d]
                ib += (pb[d] == 1 ? 0 : idx[d]) * sb[d]
            }
            return Float(f(Double(a[ia]), Double(b[ib])))
        }
        return (values, shape)
    }

    /// Reduces `x` of `shape` over `axes` with `f` starting from `initial`.
    static func reduce(
        _ x: [Float], _ shape: [Int], axes: Set<Int>, initial: Double, _ f: (Double, Double) -> Double
    ) -> [Float] {
        let outShape = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
        var out = [Double](repeating: initial, count: outShape.reduce(1, *))
        let outStrides = strides(outShape)
        for i in x.indices {
            let idx = index(i, shape)
            let o = shape.indices.reduce(0) { $0 + (axes.contains($1) ? 0 : idx[$1] * outStrides[$1]) }
            out[o] = f(out[o], Double(x[i]))
        }
        return out.map(Float.init)
    }

    /// C = A·B for row-major A (m × k) and B (k × n), accumulated in double.
    static func matmul(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k { acc += Double(a[i * k + p]) * Double(b[p * n + j]) }
                c[i * n + j] = Float(acc)
            }
        }
        return c
    }

    /// Transpose of a row-major rows × cols matrix.
    static func transpose(_ x: [Float], rows: Int, cols: Int) -> [Float] {
        (0..<(rows * cols)).map { i in x[(i % rows) * cols + i / rows] }
    }

    /// Direct 2-D convolution (cross-correlation) of NCHW x with OIHW w.
    static func conv2d(
        _ x: [Float], _ xShape: [Int], _ w: [Float], _ wShape: [Int], bias: [Float]?,
        stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)
    ) -> (values: [Float], shape: [Int]) {
        let (n, c, h, wd) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let (o, kh, kw) = (wShape[0], wShape[2], wShape[3])
        let oh = (h + 2 * padding.0 - dilation.0 * (kh - 1) - 1) / stride.0 + 1
        let ow = (wd + 2 * padding.1 - dilation.1 * (kw - 1) - 1) / stride.1 + 1
        var out = [Float](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n {
            for f in 0..<o {
                for y in 0..<oh {
                    for xx in 0..<ow {
                        var acc = Double(bias?[f] ?? 0)
                        for ch in 0..<c {
                            for ky in 0..<kh {
                                for kx in 0..<kw {
                                    let iy = y * stride.0 - padding.0 + ky * dilation.0
                                    let ix = xx * stride.1 - padding.1 + kx * dilation.1
                                    guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                    acc += Double(x[((b * c + ch) * h + iy) * wd + ix])
                                        * Double(w[((f * c + ch) * kh + ky) * kw + kx])
                                }
                            }
                        }
                        out[((b * o + f) * oh + y) * ow + xx] = Float(acc)
                    }
                }
            }
        }
        return (out, [n, o, oh, ow])
    }

    /// 2-D max or average pooling of NCHW x (padding ignored by max, counted as 0 by average).
    static func pool2d(
        _ x: [Float], _ shape: [Int], kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), max useMax: Bool
    ) -> (values: [Float], shape: [Int]) {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let oh = (h + 2 * padding.0 - kernel.0) / stride.0 + 1
        let ow = (w + 2 * padding.1 - kernel.1) / stride.1 + 1
        var out: [Float] = []
        for p in 0..<(n * c) {
            for y in 0..<oh {
                for xx in 0..<ow {
                    var best = -Double.infinity, total = 0.0
                    for ky in 0..<kernel.0 {
                        for kx in 0..<kernel.1 {
                            let iy = y * stride.0 - padding.0 + ky, ix = xx * stride.1 - padding.1 + kx
                            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                            let v = Double(x[(p * h + iy) * w + ix])
                            best = Swift.max(best, v)
                            total += v
                        }
                    }
                    out.append(Float(useMax ? best : total / Double(kernel.0 * kernel.1)))
                }
            }
        }
        return (out, [n, c, oh, ow])
    }
}
