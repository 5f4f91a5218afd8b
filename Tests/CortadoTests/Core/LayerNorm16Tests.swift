import Testing
@testable import Cortado

/// LayerNorm with float16 and bfloat16 operands (float statistics) on OpenCL's kernels, with CPU
/// and GPU parameters, and on the CPU backend, against double precision on the same rounded inputs.
@Suite("LayerNorm in 16-bit storage")
struct LayerNorm16Tests {
    static let cases: [DTypeOnDevice] = [DType.float16, .bfloat16].flatMap { dtype in
        (TestDevices.openCLVariants + [.cpu]).map { DTypeOnDevice(dtype: dtype, device: $0) }
    }

    /// `values` rounded to `dtype`, as a tensor of that type on `device`.
    static func tensor(_ values: [Float], _ shape: [Int], _ dtype: DType, on device: Device) throws -> Tensor {
        try Tensor(values, shape: shape, device: device).to(dtype: dtype)
    }

    @Test("forward and all three gradients match double precision", arguments: cases)
    func matchesReference(_ c: DTypeOnDevice) throws {
        let (rtol, atol): (Float, Float) = c.dtype == .float16 ? (4e-3, 4e-3) : (3e-2, 3e-2)
        // 3: several rows per work-group; 37: no multiple of a vector; 1000: longer than a work-group.
        for (index, shape) in [[6, 33], [7, 3], [67, 37], [5, 1000]].enumerated() {
            let (count, width) = (shape.reduce(1, *), shape.last!)
            let seed = UInt64(800 + 10 * index)
            let x = try Self.tensor(Fixtures.values(count, seed: seed, low: -2, high: 2), shape, c.dtype, on: c.device)
            let w = try Self.tensor(Fixtures.values(width, seed: seed + 1, low: 0.5, high: 1.5), [width], c.dtype, on: c.device)
            let b = try Self.tensor(Fixtures.values(width, seed: seed + 2), [width], c.dtype, on: c.device)
            let dy = try Self.tensor(Fixtures.values(count, seed: seed + 3), shape, c.dtype, on: c.device)
            let expected = LayerNormReference.run(
                try x.toArray(), width: width, weight: try w.toArray(), bias: try b.toArray(), epsilon: 1e-5, dy: try dy.toArray())
            let (input, weight, bias) = (x.requiringGrad(), w.requiringGrad(), b.requiringGrad())
            let y = try input.layerNorm(weight: weight, bias: bias, epsilon: 1e-5)
            #expect(y.dtype == c.dtype)
            try y.backward(gradient: dy)
            let context = "\(shape) \(c)"
            assertClose(try y.toArray(), expected.y, rtol: rtol, atol: atol, "y \(context)")
            assertClose(try input.grad!.toArray(), expected.dx, rtol: rtol, atol: atol, "dx \(context)")
            assertClose(try weight.grad!.toArray(), expected.dWeight, rtol: rtol, atol: atol, "dweight \(context)")
            assertClose(try bias.grad!.toArray(), expected.dBias, rtol: rtol, atol: atol, "dbias \(context)")
        }
    }
}
