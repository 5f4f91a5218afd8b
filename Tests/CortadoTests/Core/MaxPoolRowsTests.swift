import Cortado
import Testing

/// The 2×2, stride-2 max pool at every kind of row length: CPU-type OpenCL devices take a row of
/// outputs per work-item in blocks of eight (a last, partial block overlapping the one before),
/// blocks of four for rows of four to seven outputs, and single outputs below four; odd input sizes
/// leave a column and a row that the backward pass must clear.
@Suite("2×2 max pooling at every row length")
struct MaxPoolRowsTests {
    static let cases: [DTypeOnDevice] = [DType.float32, .float16, .bfloat16].flatMap { dtype in
        TestDevices.all.map { DTypeOnDevice(dtype: dtype, device: $0) }
    }

    /// Input widths giving 1, 2, 3 (single outputs), 4, 5, 7 (blocks of four), 8, 9, 13, 16 and 17
    /// outputs a row; odd widths and heights leave an uncovered column and row.
    static let shapes: [[Int]] = [
        [1, 2, 3, 3], [2, 1, 4, 5], [1, 3, 7, 7], [2, 2, 4, 8], [1, 2, 5, 11], [1, 2, 6, 15],
        [1, 2, 4, 16], [2, 1, 5, 19], [1, 3, 6, 26], [1, 1, 3, 32], [1, 2, 4, 35],
    ]

    /// The largest of each window (the first in row-major order on ties, as both backends keep) and
    /// its flat position in the input, from direct loops over the stored values.
    static func reference(_ x: [Float], _ shape: [Int]) -> (values: [Float], argmax: [Int]) {
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        var values: [Float] = [], argmax: [Int] = []
        for p in 0..<planes {
            for oy in 0..<(h / 2) {
                for ox in 0..<(w / 2) {
                    var best = p * h * w + 2 * oy * w + 2 * ox
                    for (dy, dx) in [(0, 1), (1, 0), (1, 1)] {
                        let at = p * h * w + (2 * oy + dy) * w + 2 * ox + dx
                        if x[at] > x[best] { best = at }
                    }
                    values.append(x[best])
                    argmax.append(best)
                }
            }
        }
        return (values, argmax)
    }

    @Test("forward values and backward routing match direct loops exactly, in every storage type", arguments: cases)
    func matchesLoops(_ c: DTypeOnDevice) throws {
        for (index, shape) in Self.shapes.enumerated() {
            let count = shape.reduce(1, *)
            let x = try Tensor(Fixtures.values(count, seed: 90 + UInt64(index), low: -2, high: 2), shape: shape,
                               dtype: c.dtype, device: c.device).requiringGrad()
            let y = try x.maxPool2d(kernelSize: 2)
            let outShape = [shape[0], shape[1], shape[2] / 2, shape[3] / 2]
            let weights = try Tensor(Fixtures.values(outShape.reduce(1, *), seed: 190 + UInt64(index), low: 0.5, high: 2),
                                     shape: outShape, dtype: c.dtype, device: c.device)
            try (y * weights).sum().backward()
            // The reference works on the values as stored, so rounding to 16 bits is no tolerance.
            let expected = Self.reference(try x.toArray(), shape)
            let storedWeights = try weights.toArray()
            var expectedGradient = [Float](repeating: 0, count: count)
            for (o, at) in expected.argmax.enumerated() { expectedGradient[at] = storedWeights[o] }
            let context = "\(shape) in \(c.dtype) on \(c.device)"
            #expect(y.dtype == c.dtype, "\(context): output in \(y.dtype)")
            try assertClose(y, expected.values, shape: outShape, rtol: 0, atol: 0, "\(context) forward")
            let gradient = try #require(x.grad, "\(context): no gradient")
            try assertClose(gradient, expectedGradient, shape: shape, rtol: 0, atol: 0, "\(context) backward")
        }
    }
}
