import CVectorMath
import Foundation

/// An elementwise function of one value. Loops are generic over it, so each function gets its own
/// specialised, vectorisable loop (a closure captured by the parallel loop would be called
/// indirectly for every element).
protocol UnaryFunction {
    func callAsFunction(_ x: Float) -> Float
}

/// An elementwise function of two values.
protocol BinaryFunction {
    func callAsFunction(_ a: Float, _ b: Float) -> Float
}

/// The scalar definitions of the elementwise functions, matching `Kernels/elementwise.cl`.
enum ScalarMath {
    static let sqrtHalf: Float = 0.707_106_781_186_547_52
    static let inverseSqrtTwoPi: Float = 0.398_942_280_401_432_68

    @inline(__always) static func gelu(_ x: Float) -> Float { 0.5 * x * (1 + erf(x * sqrtHalf)) }
    @inline(__always) static func geluGradient(_ x: Float) -> Float {
        0.5 * (1 + erf(x * sqrtHalf)) + x * inverseSqrtTwoPi * exp(-0.5 * x * x)
    }

    struct Identity: UnaryFunction { func callAsFunction(_ x: Float) -> Float { x } }
    struct Neg: UnaryFunction { func callAsFunction(_ x: Float) -> Float { -x } }
    struct Exp: UnaryFunction { func callAsFunction(_ x: Float) -> Float { Foundation.exp(x) } }
    struct Log: UnaryFunction { func callAsFunction(_ x: Float) -> Float { Foundation.log(x) } }
    struct Sqrt: UnaryFunction { func callAsFunction(_ x: Float) -> Float { x.squareRoot() } }
    struct Abs: UnaryFunction { func callAsFunction(_ x: Float) -> Float { Swift.abs(x) } }
    struct Relu: UnaryFunction { func callAsFunction(_ x: Float) -> Float { x < 0 ? 0 : x } }
    struct Sigmoid: UnaryFunction { func callAsFunction(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) } }
    struct Tanh: UnaryFunction { func callAsFunction(_ x: Float) -> Float { Foundation.tanh(x) } }
    struct Gelu: UnaryFunction { func callAsFunction(_ x: Float) -> Float { ScalarMath.gelu(x) } }
    struct Sign: UnaryFunction { func callAsFunction(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) } }
    struct Square: UnaryFunction { func callAsFunction(_ x: Float) -> Float { x * x } }
    struct Reciprocal: UnaryFunction { func callAsFunction(_ x: Float) -> Float { 1 / x } }
    struct AddScalar: UnaryFunction { let s: Float; func callAsFunction(_ x: Float) -> Float { x + s } }
    struct MulScalar: UnaryFunction { let s: Float; func callAsFunction(_ x: Float) -> Float { x * s } }
    struct PowScalar: UnaryFunction { let s: Float; func callAsFunction(_ x: Float) -> Float { Foundation.pow(x, s) } }
    struct RsubScalar: UnaryFunction { let s: Float; func callAsFunction(_ x: Float) -> Float { s - x } }
    struct RdivScalar: UnaryFunction { let s: Float; func callAsFunction(_ x: Float) -> Float { s / x } }
    struct MaxScalar: UnaryFunction { let s: Float; func callAsFunction(_ x: Float) -> Float { x < s ? s : x } }
    struct MinScalar: UnaryFunction { let s: Float; func callAsFunction(_ x: Float) -> Float { x > s ? s : x } }
    struct GreaterEqualScalar: UnaryFunction { let s: Float; func callAsFunction(_ x: Float) -> Float { x >= s ? 1 : 0 } }

    struct Add: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b } }
    struct Sub: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b } }
    struct Mul: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b } }
    struct Div: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b } }
    struct Pow: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { Foundation.pow(a, b) } }
    struct Maximum: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { Float.maximum(a, b) } }
    struct Minimum: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { Float.minimum(a, b) } }
    struct Equal: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a == b ? 1 : 0 } }
    struct NotEqual: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a != b ? 1 : 0 } }
    struct Less: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a < b ? 1 : 0 } }
    struct LessEqual: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a <= b ? 1 : 0 } }
    struct Greater: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a > b ? 1 : 0 } }
    struct GreaterEqual: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a >= b ? 1 : 0 } }
    struct ReluBackward: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { b > 0 ? a : 0 } }
    struct SigmoidBackward: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b * (1 - b) } }
    struct TanhBackward: BinaryFunction { func callAsFunction(_ a: Float, _ b: Float) -> Float { a * (1 - b * b) } }
    struct GeluBackward: BinaryFunction {
        func callAsFunction(_ a: Float, _ b: Float) -> Float { a * ScalarMath.geluGradient(b) }
    }
}

extension CPUBackend {
    package func unary(_ op: UnaryOp, _ x: StridedView, into out: StridedView) throws {
        if let vectorised = Self.vectorised(op) {
            if x.dtype != .float32 || out.dtype != .float32 {
                widening([x], into: out, grain: Self.transcendentalGrain) { a, _, result, m in vectorised(a, result, m) }
                return
            }
            if x.isContiguous && out.isContiguous {
                let xp = x.buffer.floats + x.offset, op = out.buffer.floats + out.offset
                Parallel.forEach(count: out.count, grain: Self.transcendentalGrain) { range in
                    vectorised(xp + range.lowerBound, op + range.lowerBound, range.count)
                }
                return
            }
        }
        typealias M = ScalarMath
        let fast = Self.elementwiseGrain, slow = Self.transcendentalGrain
        switch op {
        case .identity: map(x, out, grain: fast, M.Identity())
        case .neg: map(x, out, grain: fast, M.Neg())
        case .exp: map(x, out, grain: slow, M.Exp())
        case .log: map(x, out, grain: slow, M.Log())
        case .sqrt: map(x, out, grain: fast, M.Sqrt())
        case .abs: map(x, out, grain: fast, M.Abs())
        case .relu: map(x, out, grain: fast, M.Relu())
        case .sigmoid: map(x, out, grain: slow, M.Sigmoid())
        case .tanh: map(x, out, grain: slow, M.Tanh())
        case .gelu: map(x, out, grain: slow, M.Gelu())
        case .sign: map(x, out, grain: fast, M.Sign())
        case .square: map(x, out, grain: fast, M.Square())
        case .reciprocal: map(x, out, grain: fast, M.Reciprocal())
        case let .addScalar(s): map(x, out, grain: fast, M.AddScalar(s: s))
        case let .mulScalar(s): map(x, out, grain: fast, M.MulScalar(s: s))
        case let .powScalar(s):
            if s == 2 { map(x, out, grain: fast, M.Square()) } else { map(x, out, grain: slow, M.PowScalar(s: s)) }
        case let .rsubScalar(s): map(x, out, grain: fast, M.RsubScalar(s: s))
        case let .rdivScalar(s): map(x, out, grain: fast, M.RdivScalar(s: s))
        case let .maxScalar(s): map(x, out, grain: fast, M.MaxScalar(s: s))
        case let .minScalar(s): map(x, out, grain: fast, M.MinScalar(s: s))
        case let .greaterEqualScalar(s): map(x, out, grain: fast, M.GreaterEqualScalar(s: s))
        }
    }

    package func binary(_ op: BinaryOp, _ a: StridedView, _ b: StridedView, into out: StridedView) throws {
        if op == .geluBackward, out.dtype != .float32 {
            widening([a, b], into: out, grain: Self.transcendentalGrain) { a, b, result, m in
                cortado_vm_gelu_backward(a, b, result, m)
            }
            return
        }
        if op == .geluBackward, a.shape == out.shape, b.shape == out.shape,
           a.isContiguous, b.isContiguous, out.isContiguous {
            let ap = a.buffer.floats + a.offset, bp = b.buffer.floats + b.offset, op = out.buffer.floats + out.offset
            Parallel.forEach(count: out.count, grain: Self.transcendentalGrain) { range in
                cortado_vm_gelu_backward(ap + range.lowerBound, bp + range.lowerBound, op + range.lowerBound, range.count)
            }
            return
        }
        typealias M = ScalarMath
        let fast = Self.elementwiseGrain, slow = Self.transcendentalGrain
        switch op {
        case .add: zip(a, b, out, grain: fast, M.Add())
        case .sub: zip(a, b, out, grain: fast, M.Sub())
        case .mul: zip(a, b, out, grain: fast, M.Mul())
        case .div: zip(a, b, out, grain: fast, M.Div())
        case .pow: zip(a, b, out, grain: slow, M.Pow())
        case .maximum: zip(a, b, out, grain: fast, M.Maximum())
        case .minimum: zip(a, b, out, grain: fast, M.Minimum())
        case .equal: zip(a, b, out, grain: fast, M.Equal())
        case .notEqual: zip(a, b, out, grain: fast, M.NotEqual())
        case .less: zip(a, b, out, grain: fast, M.Less())
        case .lessEqual: zip(a, b, out, grain: fast, M.LessEqual())
        case .greater: zip(a, b, out, grain: fast, M.Greater())
        case .greaterEqual: zip(a, b, out, grain: fast, M.GreaterEqual())
        case .reluBackward: zip(a, b, out, grain: fast, M.ReluBackward())
        case .sigmoidBackward: zip(a, b, out, grain: fast, M.SigmoidBackward())
        case .tanhBackward: zip(a, b, out, grain: fast, M.TanhBackward())
        case .geluBackward: zip(a, b, out, grain: slow, M.GeluBackward())
        }
    }

    /// The vectorised loop (CVectorMath) of a transcendental function, when there is one (it may
    /// not write in place).
    private static func vectorised(_ op: UnaryOp) -> ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)? {
        switch op {
        case .exp: return { cortado_vm_exp($0, $1, $2, 0) }
        case .sigmoid: return { cortado_vm_sigmoid($0, $1, $2) }
        case .tanh: return { cortado_vm_tanh($0, $1, $2) }
        case .gelu: return { cortado_vm_gelu($0, $1, $2) }
        default: return nil
        }
    }

    /// `out[i] = f(x[i])`, contiguous fast path or strided rows.
    private func map<F: UnaryFunction>(_ x: StridedView, _ out: StridedView, grain: Int, _ f: F) {
        if x.dtype != .float32 || out.dtype != .float32 {
            widening([x], into: out, grain: grain) { a, _, result, m in
                for j in 0..<m { result[j] = f(a[j]) }
            }
            return
        }
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
            let xp = xs + at[0], op = os + at[1]
            if step[0] == 1 && step[1] == 1 {
                for j in 0..<n { op[j] = f(xp[j]) }
            } else {
                let (sx, so) = (step[0], step[1])
                for j in 0..<n { op[j * so] = f(xp[j * sx]) }
            }
        }
    }

    /// `out[i] = f(a[i], b[i])` with broadcasting strides.
    private func zip<F: BinaryFunction>(_ a: StridedView, _ b: StridedView, _ out: StridedView, grain: Int, _ f: F) {
        if out.dtype != .float32 {
            widening([a, b], into: out, grain: grain) { a, b, result, m in
                for j in 0..<m { result[j] = f(a[j], b[j]) }
            }
            return
        }
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
                let (sa, sb, so) = (step[0], step[1], step[2])
                for j in 0..<n { op[j * so] = f(ap[j * sa], bp[j * sb]) }
            }
        }
    }
}
