import Foundation

/// The scalar definitions of the elementwise functions, matching `Kernels/elementwise.cl`.
enum ScalarMath {
    static let sqrtHalf: Float = 0.707_106_781_186_547_52
    static let inverseSqrtTwoPi: Float = 0.398_942_280_401_432_68

    @inline(__always) static func gelu(_ x: Float) -> Float { 0.5 * x * (1 + erf(x * sqrtHalf)) }
    @inline(__always) static func geluGradient(_ x: Float) -> Float {
        0.5 * (1 + erf(x * sqrtHalf)) + x * inverseSqrtTwoPi * exp(-0.5 * x * x)
    }
    @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }
    @inline(__always) static func sign(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }
}

extension CPUBackend {
    package func unary(_ op: UnaryOp, _ x: StridedView, into out: StridedView) throws {
        let fast = Self.elementwiseGrain, slow = Self.transcendentalGrain
        switch op {
        case .identity: map(x, out, grain: fast) { $0 }
        case .neg: map(x, out, grain: fast) { -$0 }
        case .exp: map(x, out, grain: slow) { Foundation.exp($0) }
        case .log: map(x, out, grain: slow) { Foundation.log($0) }
        case .sqrt: map(x, out, grain: fast) { $0.squareRoot() }
        case .abs: map(x, out, grain: fast) { Swift.abs($0) }
        case .relu: map(x, out, grain: fast) { $0 < 0 ? 0 : $0 }
        case .sigmoid: map(x, out, grain: slow) { ScalarMath.sigmoid($0) }
        case .tanh: map(x, out, grain: slow) { Foundation.tanh($0) }
        case .gelu: map(x, out, grain: slow) { ScalarMath.gelu($0) }
        case .sign: map(x, out, grain: fast) { ScalarMath.sign($0) }
        case .square: map(x, out, grain: fast) { $0 * $0 }
        case .reciprocal: map(x, out, grain: fast) { 1 / $0 }
        case let .addScalar(s): map(x, out, grain: fast) { $0 + s }
        case let .mulScalar(s): map(x, out, grain: fast) { $0 * s }
        case let .powScalar(s):
            if s == 2 {
                map(x, out, grain: fast) { $0 * $0 }
            } else {
                map(x, out, grain: slow) { Foundation.pow($0, s) }
            }
        case let .rsubScalar(s): map(x, out, grain: fast) { s - $0 }
        case let .rdivScalar(s): map(x, out, grain: fast) { s / $0 }
        case let .maxScalar(s): map(x, out, grain: fast) { $0 < s ? s : $0 }
        case let .minScalar(s): map(x, out, grain: fast) { $0 > s ? s : $0 }
        }
    }

    package func binary(_ op: BinaryOp, _ a: StridedView, _ b: StridedView, into out: StridedView) throws {
        let fast = Self.elementwiseGrain, slow = Self.transcendentalGrain
        switch op {
        case .add: zip(a, b, out, grain: fast) { $0 + $1 }
        case .sub: zip(a, b, out, grain: fast) { $0 - $1 }
        case .mul: zip(a, b, out, grain: fast) { $0 * $1 }
        case .div: zip(a, b, out, grain: fast) { $0 / $1 }
        case .pow: zip(a, b, out, grain: slow) { Foundation.pow($0, $1) }
        case .maximum: zip(a, b, out, grain: fast) { Float.maximum($0, $1) }
        case .minimum: zip(a, b, out, grain: fast) { Float.minimum($0, $1) }
        case .equal: zip(a, b, out, grain: fast) { $0 == $1 ? 1 : 0 }
        case .notEqual: zip(a, b, out, grain: fast) { $0 != $1 ? 1 : 0 }
        case .less: zip(a, b, out, grain: fast) { $0 < $1 ? 1 : 0 }
        case .lessEqual: zip(a, b, out, grain: fast) { $0 <= $1 ? 1 : 0 }
        case .greater: zip(a, b, out, grain: fast) { $0 > $1 ? 1 : 0 }
        case .greaterEqual: zip(a, b, out, grain: fast) { $0 >= $1 ? 1 : 0 }
        case .reluBackward: zip(a, b, out, grain: fast) { $1 > 0 ? $0 : 0 }
        case .sigmoidBackward: zip(a, b, out, grain: fast) { $0 * $1 * (1 - $1) }
        case .tanhBackward: zip(a, b, out, grain: fast) { $0 * (1 - $1 * $1) }
        case .geluBackward: zip(a, b, out, grain: slow) { $0 * ScalarMath.geluGradient($1) }
        }
    }

    /// `out[i] = f(x[i])`, contiguous fast path or strided rows.
    @inline(__always)
    private func map(_ x: StridedView, _ out: StridedView, grain: Int, _ f: (Float) -> Float) {
        let xs = x.buffer.floats, os = out.buffer.floats
        if x.isContiguous && out.isContiguous {
            let xp = xs + x.offset, op = os + out.offset
            Parallel.forEach(count: out.count, grain: grain) { range in
                for i in range { op[i] = f(xp[i]) }
            }
            return
        }
        let (shape, strides, base) = StridedRows.layout(out.shape, [x, out])
        StridedRows.forEach(shape: shape, strides: strides, base: base, grain: grain) { at, step, n in
            if step[0] == 1 && step[1] == 1 {
                let xp = xs + at[0], op = os + at[1]
                for j in 0..<n { op[j] = f(xp[j]) }
            } else {
                for j in 0..<n { os[at[1] + j * step[1]] = f(xs[at[0] + j * step[0]]) }
            }
        }
    }

    /// `out[i] = f(a[i], b[i])` with broadcasting strides.
    @inline(__always)
    private func zip(
        _ a: StridedView, _ b: StridedView, _ out: StridedView, grain: Int, _ f: (Float, Float) -> Float
    ) {
        let as_ = a.buffer.floats, bs = b.buffer.floats, os = out.buffer.floats
        if a.shape == out.shape && b.shape == out.shape && a.isContiguous && b.isContiguous && out.isContiguous {
            let ap = as_ + a.offset, bp = bs + b.offset, op = os + out.offset
            Parallel.forEach(count: out.count, grain: grain) { range in
                for i in range { op[i] = f(ap[i], bp[i]) }
            }
            return
        }
        let (shape, strides, base) = StridedRows.layout(out.shape, [a, b, out])
        StridedRows.forEach(shape: shape, strides: strides, base: base, grain: grain) { at, step, n in
            let ap = as_ + at[0], bp = bs + at[1], op = os + at[2]
            if step[0] == 1 && step[1] == 1 && step[2] == 1 {
                for j in 0..<n { op[j] = f(ap[j], bp[j]) }
            } else if step[0] == 1 && step[1] == 0 && step[2] == 1 {
                let bv = bp[0]
                for j in 0..<n { op[j] = f(ap[j], bv) }
            } else if step[0] == 0 && step[1] == 1 && step[2] == 1 {
                let av = ap[0]
                for j in 0..<n { op[j] = f(av, bp[j]) }
            } else {
                for j in 0..<n { op[j * step[2]] = f(ap[j * step[0]], bp[j * step[1]]) }
            }
        }
    }
}
