extension Tensor {
    /// Applies a unary kernel into a new contiguous tensor (no gradient recorded).
    package func applying(_ op: UnaryOp) throws -> Tensor {
        try requireSupport(.unary, "\(op)")
        let out = try Tensor.empty(shape, dtype: dtype, on: backend)
        try backend.unary(op, view, into: out.view)
        return out
    }

    /// Applies a binary kernel with broadcasting into a new contiguous tensor (no gradient recorded).
    package func applying(_ op: BinaryOp, _ other: Tensor) throws -> Tensor {
        try checkSameDevice(op.rawValue, other)
        try requireSupport(.binary, op.rawValue, other)
        let outShape = try Broadcasting.shape(shape, other.shape, op: op.rawValue)
        let out = try Tensor.empty(outShape, dtype: dtype, on: backend)
        let a = StridedView(buffer: buffer, offset: offset, shape: outShape, strides: Broadcasting.strides(of: self, to: outShape))
        let b = StridedView(
            buffer: other.buffer, offset: other.offset, shape: outShape, strides: Broadcasting.strides(of: other, to: outShape))
        try backend.binary(op, a, b, into: out.view)
        return out
    }

    // A unary op's backward step keeps only what its derivative reads (the input, the output, both
    // or neither), so the graph does not hold the rest alive until the backward pass.

    /// `op` whose derivative reads only the output gradient `g`.
    private func unaryOp(_ op: UnaryOp, _ name: String, _ derivative: @escaping (_ g: Tensor) throws -> Tensor) throws -> Tensor {
        try applying(op).recordingGradient(name, [self]) { g in [try derivative(g)] }
    }

    /// `op` whose derivative reads its input `x`.
    private func unaryOp(
        _ op: UnaryOp, _ name: String, input derivative: @escaping (_ x: Tensor, _ g: Tensor) throws -> Tensor
    ) throws -> Tensor {
        let x = detached()
        return try applying(op).recordingGradient(name, [self]) { g in [try derivative(x, g)] }
    }

    /// `op` whose derivative reads its output `y`.
    private func unaryOp(
        _ op: UnaryOp, _ name: String, output derivative: @escaping (_ y: Tensor, _ g: Tensor) throws -> Tensor
    ) throws -> Tensor {
        let out = try applying(op)
        let y = out.detached()
        return out.recordingGradient(name, [self]) { g in [try derivative(y, g)] }
    }

    /// `op` whose derivative reads its input `x` and its output `y`.
    private func unaryOp(
        _ op: UnaryOp, _ name: String, inputAndOutput derivative: @escaping (_ x: Tensor, _ y: Tensor, _ g: Tensor) throws -> Tensor
    ) throws -> Tensor {
        let out = try applying(op)
        let x = detached(), y = out.detached()
        return out.recordingGradient(name, [self]) { g in [try derivative(x, y, g)] }
    }

    // MARK: Unary functions

    /// −x.
    public static prefix func - (x: Tensor) throws -> Tensor {
        try x.unaryOp(.neg, "neg") { g in try g.applying(.neg) }
    }
    /// eˣ.
    public func exp() throws -> Tensor { try unaryOp(.exp, "exp", output: { y, g in try g.applying(.mul, y) }) }
    /// Natural logarithm.
    public func log() throws -> Tensor { try unaryOp(.log, "log", input: { x, g in try g.applying(.div, x) }) }
    /// Square root.
    public func sqrt() throws -> Tensor {
        try unaryOp(.sqrt, "sqrt", output: { y, g in try g.applying(.div, y).applying(.mulScalar(0.5)) })
    }
    /// |x|.
    public func abs() throws -> Tensor {
        try unaryOp(.abs, "abs", input: { x, g in try g.applying(.mul, x.applying(.sign)) })
    }
    /// max(x, 0).
    public func relu() throws -> Tensor { try unaryOp(.relu, "relu", input: { x, g in try g.applying(.reluBackward, x) }) }
    /// 1 / (1 + e⁻ˣ).
    public func sigmoid() throws -> Tensor {
        try unaryOp(.sigmoid, "sigmoid", output: { y, g in try g.applying(.sigmoidBackward, y) })
    }
    /// Hyperbolic tangent.
    public func tanh() throws -> Tensor { try unaryOp(.tanh, "tanh", output: { y, g in try g.applying(.tanhBackward, y) }) }
    /// Gaussian error linear unit, exact form `x·Φ(x)` (as BERT and PyTorch's default).
    /// - Note: Hendrycks & Gimpel, "Gaussian Error Linear Units (GELUs)", 2016.
    public func gelu() throws -> Tensor { try unaryOp(.gelu, "gelu", input: { x, g in try g.applying(.geluBackward, x) }) }
    /// x².
    public func square() throws -> Tensor {
        try unaryOp(.square, "square", input: { x, g in try g.applying(.mul, x).applying(.mulScalar(2)) })
    }
    /// xᵖ for a constant exponent.
    public func pow(_ exponent: Float) throws -> Tensor {
        try unaryOp(.powScalar(exponent), "pow", input: { x, g in
            try g.applying(.mul, x.applying(.powScalar(exponent - 1))).applying(.mulScalar(exponent))
        })
    }
    /// max(x, s) elementwise (the gradient flows where x ≥ s).
    public func clamped(min s: Float) throws -> Tensor {
        try unaryOp(.maxScalar(s), "clamp_min", input: { x, g in try g.applying(.mul, x.applying(.greaterEqualScalar(s))) })
    }
    /// min(x, s) elementwise (the gradient flows where x ≤ s).
    public func clamped(max s: Float) throws -> Tensor {
        try unaryOp(.minScalar(s), "clamp_max", input: { x, g in
            try g.applying(.mul, x.applying(.neg).applying(.greaterEqualScalar(-s)))
        })
    }
    /// 1 where x ≥ s, else 0 (no gradient).
    public func ge(_ s: Float) throws -> Tensor { try applying(.greaterEqualScalar(s)) }

    // MARK: Binary functions of two tensors (broadcasting)

    private func binaryOp(
        _ op: BinaryOp, _ other: Tensor,
        _ derivatives: @escaping (_ a: Tensor, _ b: Tensor, _ out: Tensor, _ g: Tensor) throws -> (Tensor?, Tensor?)
    ) throws -> Tensor {
        let out = try applying(op, other)
        let a = detached(), b = other.detached(), y = out.detached()
        let (aShape, bShape) = (shape, other.shape)
        let (aNeeds, bNeeds) = (requiresGrad, other.requiresGrad)
        return out.recordingGradient(op.rawValue, [self, other]) { g in
            let (ga, gb) = try derivatives(a, b, y, g)
            return [aNeeds ? try ga?.summed(toShape: aShape) : nil, bNeeds ? try gb?.summed(toShape: bShape) : nil]
        }
    }

    /// `op` whose derivatives read only the output gradient (a sum or a difference): its backward
    /// step keeps neither operand (a residual connection's summands may be freed at once).
    private func binaryOp(_ op: BinaryOp, _ other: Tensor, _ derivatives: @escaping (_ g: Tensor) throws -> (Tensor, Tensor)) throws -> Tensor {
        let (aShape, bShape) = (shape, other.shape)
        let (aNeeds, bNeeds) = (requiresGrad, other.requiresGrad)
        return try applying(op, other).recordingGradient(op.rawValue, [self, other]) { g in
            let (ga, gb) = try derivatives(g)
            return [aNeeds ? try ga.summed(toShape: aShape) : nil, bNeeds ? try gb.summed(toShape: bShape) : nil]
        }
    }

    /// Elementwise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        try a.binaryOp(.add, b) { g in (g, g) }
    }
    /// Elementwise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        try a.binaryOp(.sub, b) { g in (g, try g.applying(.neg)) }
    }
    /// Elementwise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        try a.binaryOp(.mul, b) { a, b, _, g in (try g.applying(.mul, b), try g.applying(.mul, a)) }
    }
    /// Elementwise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        try a.binaryOp(.div, b) { _, b, y, g in
            (try g.applying(.div, b), try g.applying(.mul, y).applying(.div, b).applying(.neg))
        }
    }
    /// aᵇ elementwise with broadcasting.
    public func pow(_ exponent: Tensor) throws -> Tensor {
        try binaryOp(.pow, exponent) { a, b, y, g in
            let ga = try g.applying(.mul, b).applying(.mul, a.applying(.pow, b.applying(.addScalar(-1))))
            let gb = try g.applying(.mul, y).applying(.mul, a.applying(.log))
            return (ga, gb)
        }
    }
    /// Elementwise maximum (at ties the gradient is split evenly, as PyTorch does).
    public func maximum(_ other: Tensor) throws -> Tensor {
        try binaryOp(.maximum, other) { a, b, _, g in try Tensor.splitGradient(g, winner: a.applying(.greater, b), tie: a.applying(.equal, b)) }
    }
    /// Elementwise minimum (at ties the gradient is split evenly).
    public func minimum(_ other: Tensor) throws -> Tensor {
        try binaryOp(.minimum, other) { a, b, _, g in try Tensor.splitGradient(g, winner: a.applying(.less, b), tie: a.applying(.equal, b)) }
    }

    private static func splitGradient(_ g: Tensor, winner: Tensor, tie: Tensor) throws -> (Tensor, Tensor) {
        let share = try winner.applying(.add, tie.applying(.mulScalar(0.5)))
        return (try g.applying(.mul, share), try g.applying(.mul, share.applying(.rsubScalar(1))))
    }

    // MARK: Comparisons (1 where true, 0 where false; no gradient)

    /// `a == b` elementwise.
    public func eq(_ other: Tensor) throws -> Tensor { try applying(.equal, other) }
    /// `a != b` elementwise.
    public func ne(_ other: Tensor) throws -> Tensor { try applying(.notEqual, other) }
    /// `a < b` elementwise.
    public func lt(_ other: Tensor) throws -> Tensor { try applying(.less, other) }
    /// `a <= b` elementwise.
    public func le(_ other: Tensor) throws -> Tensor { try applying(.lessEqual, other) }
    /// `a > b` elementwise.
    public func gt(_ other: Tensor) throws -> Tensor { try applying(.greater, other) }
    /// `a >= b` elementwise.
    public func ge(_ other: Tensor) throws -> Tensor { try applying(.greaterEqual, other) }

    // MARK: Tensor and scalar

    /// x + s.
    public static func + (x: Tensor, s: Float) throws -> Tensor {
        try x.unaryOp(.addScalar(s), "add_scalar") { g in g }
    }
    /// s + x.
    public static func + (s: Float, x: Tensor) throws -> Tensor { try x + s }
    /// x − s.
    public static func - (x: Tensor, s: Float) throws -> Tensor { try x + (-s) }
    /// s − x.
    public static func - (s: Float, x: Tensor) throws -> Tensor {
        try x.unaryOp(.rsubScalar(s), "rsub_scalar") { g in try g.applying(.neg) }
    }
    /// x · s.
    public static func * (x: Tensor, s: Float) throws -> Tensor {
        try x.unaryOp(.mulScalar(s), "mul_scalar") { g in try g.applying(.mulScalar(s)) }
    }
    /// s · x.
    public static func * (s: Float, x: Tensor) throws -> Tensor { try x * s }
    /// x / s.
    public static func / (x: Tensor, s: Float) throws -> Tensor { try x * (1 / s) }
    /// s / x.
    public static func / (s: Float, x: Tensor) throws -> Tensor {
        try x.unaryOp(.rdivScalar(s), "rdiv_scalar", inputAndOutput: { x, y, g in try g.applying(.mul, y).applying(.div, x).applying(.neg) })
    }
}
