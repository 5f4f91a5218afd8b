import Cortado
import Foundation
import Testing

/// A unary function, its closed form, and the input range where both are smooth.
struct UnaryCase: Sendable, CustomTestStringConvertible {
    let name: String
    let apply: @Sendable (Tensor) throws -> Tensor
    let reference: @Sendable (Double) -> Double
    let low: Float
    let high: Float
    var testDescription: String { name }
}

private let gaussianCDF: @Sendable (Double) -> Double = { 0.5 * (1 + erf($0 / 2.0.squareRoot())) }

let unaryCases: [UnaryCase] = [
    UnaryCase(name: "neg", apply: { try -$0 }, reference: { -$0 }, low: -3, high: 3),
    UnaryCase(name: "exp", apply: { try $0.exp() }, reference: { Foundation.exp($0) }, low: -3, high: 3),
    UnaryCase(name: "log", apply: { try $0.log() }, reference: { Foundation.log($0) }, low: 0.2, high: 5),
    UnaryCase(name: "sqrt", apply: { try $0.sqrt() }, reference: { $0.squareRoot() }, low: 0.2, high: 5),
    UnaryCase(name: "abs", apply: { try $0.abs() }, reference: { Swift.abs($0) }, low: -3, high: 3),
    UnaryCase(name: "relu", apply: { try $0.relu() }, reference: { Swift.max($0, 0) }, low: -3, high: 3),
    UnaryCase(name: "sigmoid", apply: { try $0.sigmoid() }, reference: { 1 / (1 + Foundation.exp(-$0)) }, low: -6, high: 6),
    UnaryCase(name: "tanh", apply: { try $0.tanh() }, reference: { Foundation.tanh($0) }, low: -3, high: 3),
    UnaryCase(name: "gelu", apply: { try $0.gelu() }, reference: { $0 * gaussianCDF($0) }, low: -3, high: 3),
    UnaryCase(name: "square", apply: { try $0.square() }, reference: { $0 * $0 }, low: -3, high: 3),
    UnaryCase(name: "pow(3)", apply: { try $0.pow(3) }, reference: { $0 * $0 * $0 }, low: -2, high: 2),
    UnaryCase(name: "pow(0.5)", apply: { try $0.pow(0.5) }, reference: { $0.squareRoot() }, low: 0.2, high: 4),
    UnaryCase(name: "x+2", apply: { try $0 + 2 }, reference: { $0 + 2 }, low: -3, high: 3),
    UnaryCase(name: "x-2", apply: { try $0 - 2 }, reference: { $0 - 2 }, low: -3, high: 3),
    UnaryCase(name: "2-x", apply: { try 2 - $0 }, reference: { 2 - $0 }, low: -3, high: 3),
    UnaryCase(name: "x*3", apply: { try $0 * 3 }, reference: { $0 * 3 }, low: -3, high: 3),
    UnaryCase(name: "x/4", apply: { try $0 / 4 }, reference: { $0 / 4 }, low: -3, high: 3),
    UnaryCase(name: "2/x", apply: { try 2 / $0 }, reference: { 2 / $0 }, low: 0.3, high: 3),
    UnaryCase(name: "clamp_min", apply: { try $0.clamped(min: 0.5) }, reference: { Swift.max($0, 0.5) }, low: -2, high: 2),
    UnaryCase(name: "clamp_max", apply: { try $0.clamped(max: 0.5) }, reference: { Swift.min($0, 0.5) }, low: -2, high: 2),
]

@Suite("Elementwise ops")
struct ElementwiseTests {
    @Test("unary function matches its closed form", arguments: unaryCases, TestDevices.all)
    func unaryMatchesClosedForm(_ op: UnaryCase, device: Device) throws {
        // 1037 elements: not a multiple of any vector width or work-group size.
        let values = Fixtures.values(1037, seed: 3, low: op.low, high: op.high)
        let out = try op.apply(Tensor(values, device: device))
        try assertClose(out, values.map { Float(op.reference(Double($0))) }, shape: [1037], rtol: 2e-6, atol: 1e-6, op.name)
    }

    @Test("unary function reads a non-contiguous view", arguments: unaryCases, TestDevices.all)
    func unaryOnTransposedView(_ op: UnaryCase, device: Device) throws {
        let values = Fixtures.values(7 * 33, seed: 4, low: op.low, high: op.high)
        let x = try Tensor(values, shape: [7, 33], device: device).transposed()
        let expected = Reference.transpose(values, rows: 7, cols: 33).map { Float(op.reference(Double($0))) }
        try assertClose(op.apply(x), expected, shape: [33, 7], rtol: 2e-6, atol: 1e-6, op.name)
    }

    @Test("exp, sigmoid and tanh over the whole float range and at ±∞ and NaN", arguments: TestDevices.all)
    func transcendentalsAtExtremes(device: Device) throws {
        // Wide inputs reach every branch of the vectorised CPU versions (clamps, polynomial switch).
        let wide = Fixtures.values(1003, seed: 8, low: -87, high: 88)
        let x = try Tensor(wide, device: device)
        try assertClose(x.exp(), wide.map { Foundation.exp($0) }, rtol: 1e-6, atol: 0, "exp")
        try assertClose(x.tanh(), wide.map { Foundation.tanh($0) }, rtol: 1e-6, atol: 0, "tanh")
        try assertClose(x.sigmoid(), wide.map { 1 / (1 + Foundation.exp(-$0)) }, rtol: 1e-6, atol: 1e-30, "sigmoid")

        let edges: [Float] = [.nan, .infinity, -.infinity, 100, -100, 0, -0.0, 1e-7, -0.6, 0.7, 20, -20]
        let e = try Tensor(edges, device: device)
        let exp = try e.exp().toArray(), tanh = try e.tanh().toArray(), sigmoid = try e.sigmoid().toArray()
        #expect(exp[0].isNaN && tanh[0].isNaN && sigmoid[0].isNaN, "NaN must stay NaN")
        // OpenCL allows a few ulp on tanh (PoCL gives 0.99999994 at ∞) and keeps denormals.
        #expect(exp[1] == .infinity && exp[2] == 0 && exp[3] == .infinity && exp[4] >= 0 && exp[4] < 1e-37)
        assertClose(Array(tanh[1...4]), [1, -1, 1, -1], rtol: 1e-6, "tanh at ±∞ and ±100")
        assertClose(Array(sigmoid[1...4]), [1, 0, 1, 0], rtol: 1e-6, atol: 1e-37, "sigmoid at ±∞ and ±100")
        assertClose(Array(exp[5...]), edges[5...].map { Foundation.exp($0) }, rtol: 1e-6, "exp edges")
        assertClose(Array(tanh[5...]), edges[5...].map { Foundation.tanh($0) }, rtol: 1e-6, "tanh edges")
    }

    @Test("GELU and its gradient over a wide range, at ±∞ and NaN, against double-precision erf", arguments: TestDevices.all)
    func geluAtExtremes(device: Device) throws {
        // Every branch of the vectorised CPU erf: the polynomial near 0, 1 − e^Q, and ±1 beyond 4.
        let wide = Fixtures.values(1003, seed: 9, low: -9, high: 9) + [0, -0.0, 1e-7, -0.921875, 0.9219, 4, -4.5]
        let x = try Tensor(wide, device: device).requiringGrad()
        func cdf(_ v: Double) -> Double { 0.5 * (1 + Foundation.erf(v / 2.0.squareRoot())) }
        let y = try x.gelu()
        try assertClose(y, wide.map { Float(Double($0) * cdf(Double($0))) }, rtol: 1e-6, atol: 1e-6, "gelu")
        try y.sum().backward()
        let slope = wide.map { v -> Float in
            let d = Double(v)
            return Float(cdf(d) + d * Foundation.exp(-d * d / 2) / (2 * Double.pi).squareRoot())
        }
        try assertClose(try #require(x.grad), slope, rtol: 1e-6, atol: 1e-6, "gelu gradient")
        let edges = try Tensor([.nan, .infinity], device: device).gelu().toArray()
        #expect(edges[0].isNaN && edges[1] == .infinity)
    }

    @Test("unary gradient matches finite differences", arguments: unaryCases, TestDevices.all)
    func unaryGradient(_ op: UnaryCase, device: Device) throws {
        var values = Fixtures.values(6, seed: 5, low: op.low, high: op.high)
        if ["abs", "relu", "clamp_min", "clamp_max"].contains(op.name) {
            values = Fixtures.awayFromZero(6, seed: 5, gap: 0.2).map { $0 + (op.name.hasPrefix("clamp") ? 0.5 : 0) }
        }
        try checkGradients(on: device, [(values, [2, 3])], eps: 1e-3, op.name) { try op.apply($0[0]) }
    }

    static let binaryOps: [(String, @Sendable (Tensor, Tensor) throws -> Tensor, @Sendable (Double, Double) -> Double)] = [
        ("add", { try $0 + $1 }, { $0 + $1 }),
        ("sub", { try $0 - $1 }, { $0 - $1 }),
        ("mul", { try $0 * $1 }, { $0 * $1 }),
        ("div", { try $0 / $1 }, { $0 / $1 }),
        ("pow", { try $0.pow($1) }, { Foundation.pow($0, $1) }),
        ("maximum", { try $0.maximum($1) }, { Swift.max($0, $1) }),
        ("minimum", { try $0.minimum($1) }, { Swift.min($0, $1) }),
        ("eq", { try $0.eq($1) }, { $0 == $1 ? 1 : 0 }),
        ("ne", { try $0.ne($1) }, { $0 != $1 ? 1 : 0 }),
        ("lt", { try $0.lt($1) }, { $0 < $1 ? 1 : 0 }),
        ("le", { try $0.le($1) }, { $0 <= $1 ? 1 : 0 }),
        ("gt", { try $0.gt($1) }, { $0 > $1 ? 1 : 0 }),
        ("ge", { try $0.ge($1) }, { $0 >= $1 ? 1 : 0 }),
    ]

    /// Shape pairs covering broadcasting edge cases: equal, trailing vector, both sides expanding,
    /// rank-0 scalar, leading 1s, extent-1 against extent-1, and an odd length.
    static let broadcastShapes: [([Int], [Int])] = [
        ([3, 4], [3, 4]), ([3, 4], [4]), ([2, 1, 3], [4, 1]), ([], [2, 3]), ([2, 3], []),
        ([1, 5], [5, 1]), ([1], [1]), ([1023], [1023]), ([2, 3, 1, 2], [3, 5, 1]),
    ]

    @Test("binary ops broadcast like NumPy", arguments: TestDevices.all)
    func binaryBroadcasting(device: Device) throws {
        for (name, op, reference) in Self.binaryOps {
            for (aShape, bShape) in Self.broadcastShapes {
                // Positive bases for pow; quantised values so comparisons see ties.
                let a = Fixtures.values(aShape.reduce(1, *), seed: 7, low: 0.5, high: 2).map { (($0 * 4).rounded()) / 4 }
                let b = Fixtures.values(bShape.reduce(1, *), seed: 8, low: 0.5, high: 2).map { (($0 * 4).rounded()) / 4 }
                let expected = Reference.broadcast(a, aShape, b, bShape, reference)
                let out = try op(Tensor(a, shape: aShape, device: device), Tensor(b, shape: bShape, device: device))
                try assertClose(out, expected.values, shape: expected.shape, rtol: 2e-6, "\(name) \(aShape)⊕\(bShape)")
            }
        }
    }

    @Test("binary ops read non-contiguous and offset views", arguments: TestDevices.all)
    func binaryOnViews(device: Device) throws {
        let a = Fixtures.values(6 * 5, seed: 9)
        let b = Fixtures.values(5 * 8, seed: 10)
        let at = try Tensor(a, shape: [6, 5], device: device).transposed()          // [5, 6], strides (1, 5)
        let bs = try Tensor(b, shape: [5, 8], device: device).sliced(axis: 1, 1..<7)  // [5, 6], offset 1
        let expectedA = Reference.transpose(a, rows: 6, cols: 5)
        let expectedB: [Float] = (0..<30).map { (i: Int) -> Float in b[(i / 6) * 8 + 1 + i % 6] }
        try assertClose(at * bs, zip(expectedA, expectedB).map { $0 * $1 }, shape: [5, 6])
        try assertClose(at + bs, zip(expectedA, expectedB).map { $0 + $1 }, shape: [5, 6])
    }

    @Test("binary gradients match finite differences, including broadcast operands", arguments: TestDevices.all)
    func binaryGradients(device: Device) throws {
        let differentiable = Self.binaryOps.prefix(7)
        for (name, op, _) in differentiable {
            for (aShape, bShape) in [([2, 3], [2, 3]), ([2, 3], [3]), ([3, 1], [1, 2])] {
                let a = Fixtures.values(aShape.reduce(1, *), seed: 11, low: 0.5, high: 2)
                let b = Fixtures.values(bShape.reduce(1, *), seed: 12, low: 0.5, high: 2)
                try checkGradients(on: device, [(a, aShape), (b, bShape)], eps: 1e-3, "\(name) \(aShape)⊕\(bShape)") {
                    try op($0[0], $0[1])
                }
            }
        }
    }

    @Test("maximum splits the gradient evenly at ties", arguments: TestDevices.all)
    func maximumTies(device: Device) throws {
        let a = try Tensor([1, 2, 3], device: device).requiringGrad()
        let b = try Tensor([1, 5, 0], device: device).requiringGrad()
        try a.maximum(b).sum().backward()
        try assertClose(a.grad!, [0.5, 0, 1])
        try assertClose(b.grad!, [0.5, 1, 0])
    }

    @Test("ops on tensors of different devices are an error")
    func deviceMismatch() throws {
        let a = try Tensor([1, 2], device: .cpu)
        let b = try Tensor([1, 2], device: TestDevices.openCL)
        #expect(throws: CortadoError.self) { try a + b }
        do {
            _ = try a * b
        } catch let error as CortadoError {
            #expect(error.description.contains("different devices"))
        }
    }

    @Test("incompatible shapes are an error, not a trap", arguments: TestDevices.all)
    func shapeMismatch(device: Device) throws {
        let a = try Tensor.zeros([2, 3], device: device)
        let b = try Tensor.zeros([4], device: device)
        #expect(throws: CortadoError.shapeMismatch("add: shapes [2, 3] and [4] do not broadcast")) { try a + b }
    }
}
