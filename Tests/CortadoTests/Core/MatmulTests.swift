import Cortado
import Testing

@Suite("Matrix multiplication")
struct MatmulTests {
    /// Odd sizes exercise every tail of the register and work-group tiles.
    static let sizes: [(m: Int, k: Int, n: Int)] = [
        (1, 1, 1), (1, 7, 33), (7, 33, 1), (33, 1, 7), (1023, 33, 7), (7, 1023, 33), (33, 7, 1023),
        (65, 130, 257), (64, 64, 64),
    ]

    @Test("matmul matches a double-precision loop at odd sizes", arguments: TestDevices.all)
    func oddSizes(device: Device) throws {
        for (m, k, n) in Self.sizes {
            let a = Fixtures.values(m * k, seed: UInt64(m * 31 + k))
            let b = Fixtures.values(k * n, seed: UInt64(n * 17 + k))
            let out = try Tensor(a, shape: [m, k], device: device).matmul(Tensor(b, shape: [k, n], device: device))
            try assertClose(out, Reference.matmul(a, b, m: m, k: k, n: n), shape: [m, n], rtol: 1e-4, atol: 1e-4, "\(m)×\(k)×\(n)")
        }
    }

    @Test("transposed views multiply without mistakes", arguments: TestDevices.all)
    func transposedOperands(device: Device) throws {
        let (m, k, n) = (37, 19, 45)
        let a = Fixtures.values(m * k, seed: 41), b = Fixtures.values(k * n, seed: 42)
        let expected = Reference.matmul(a, b, m: m, k: k, n: n)
        let aT = try Tensor(Reference.transpose(a, rows: m, cols: k), shape: [k, m], device: device).transposed()
        let bT = try Tensor(Reference.transpose(b, rows: k, cols: n), shape: [n, k], device: device).transposed()
        let aN = try Tensor(a, shape: [m, k], device: device), bN = try Tensor(b, shape: [k, n], device: device)
        try assertClose(aT.matmul(bN), expected, rtol: 1e-4, atol: 1e-4, "Aᵀ·B")
        try assertClose(aN.matmul(bT), expected, rtol: 1e-4, atol: 1e-4, "A·Bᵀ")
        try assertClose(aT.matmul(bT), expected, rtol: 1e-4, atol: 1e-4, "Aᵀ·Bᵀ")
        // A strided slice (neither stride is 1) must also work.
        let wide = try Tensor(Fixtures.values(m * 2 * k, seed: 43), shape: [m, 2 * k], device: device)
        let strided = try wide.sliced(axis: 1, 0..<(2 * k), step: 2)
        let stridedValues = try strided.contiguous().toArray()
        try assertClose(strided.matmul(bN), Reference.matmul(stridedValues, b, m: m, k: k, n: n), rtol: 1e-4, atol: 1e-4, "slice")
    }

    @Test("batched matmul broadcasts batch dimensions; 1-D operands are vectors", arguments: TestDevices.all)
    func batchedAndVectors(device: Device) throws {
        let (b, m, k, n) = (3, 4, 5, 6)
        let a = Fixtures.values(b * m * k, seed: 44), w = Fixtures.values(k * n, seed: 45)
        let out = try Tensor(a, shape: [b, m, k], device: device).matmul(Tensor(w, shape: [k, n], device: device))
        let expected = (0..<b).flatMap { i in Reference.matmul(Array(a[(i * m * k)..<((i + 1) * m * k)]), w, m: m, k: k, n: n) }
        try assertClose(out, expected, shape: [b, m, n], rtol: 1e-5, atol: 1e-5)
        // [2, 1, m, k] × [3, k, n] → [2, 3, m, n]
        let a2 = Fixtures.values(2 * m * k, seed: 46), w2 = Fixtures.values(3 * k * n, seed: 47)
        let out2 = try Tensor(a2, shape: [2, 1, m, k], device: device).matmul(Tensor(w2, shape: [3, k, n], device: device))
        var expected2: [Float] = []
        for i in 0..<2 {
            for j in 0..<3 {
                expected2 += Reference.matmul(Array(a2[(i * m * k)..<((i + 1) * m * k)]), Array(w2[(j * k * n)..<((j + 1) * k * n)]), m: m, k: k, n: n)
            }
        }
        try assertClose(out2, expected2, shape: [2, 3, m, n], rtol: 1e-5, atol: 1e-5)
        let v = Fixtures.values(k, seed: 48)
        try assertClose(Tensor(v, device: device).matmul(Tensor(v, device: device)), [v.map { $0 * $0 }.reduce(0, +)], shape: [], rtol: 1e-5)
        try assertClose(Tensor(w, shape: [k, n], device: device).transposed().matmul(Tensor(v, device: device)),
                        Reference.matmul(v, w, m: 1, k: k, n: n), shape: [n], rtol: 1e-5, atol: 1e-6)
        #expect(throws: CortadoError.self) { try Tensor.zeros([2, 3], device: device).matmul(Tensor.zeros([4, 2], device: device)) }
    }

    @Test("matmul gradients match finite differences", arguments: TestDevices.all)
    func gradients(device: Device) throws {
        try checkGradients(on: device, [(Fixtures.values(12, seed: 49), [3, 4]), (Fixtures.values(20, seed: 50), [4, 5])], "2-D") {
            try $0[0].matmul($0[1])
        }
        try checkGradients(on: device, [(Fixtures.values(24, seed: 51), [2, 3, 4]), (Fixtures.values(8, seed: 52), [4, 2])], "batched, broadcast B") {
            try $0[0].matmul($0[1])
        }
        try checkGradients(on: device, [(Fixtures.values(12, seed: 53), [4, 3]), (Fixtures.values(8, seed: 54), [2, 4])], "transposed") {
            try $0[0].transposed().matmul($0[1].transposed())
        }
    }

    @Test("linear(weight:bias:) is x·Wᵀ + b over the last dimension, with its gradients", arguments: TestDevices.all)
    func linear(device: Device) throws {
        // [2, 3, 5] rows through a [4, 5] weight: the bias is added by the GEMM itself (beta = 1).
        let (x, w, b) = (Fixtures.values(30, seed: 61), Fixtures.values(20, seed: 62), Fixtures.values(4, seed: 63))
        let wT = Reference.transpose(w, rows: 4, cols: 5)
        let product = Reference.matmul(x, wT, m: 6, k: 5, n: 4)
        let expected = product.indices.map { product[$0] + b[$0 % 4] }
        let out = try Tensor(x, shape: [2, 3, 5], device: device)
            .linear(weight: Tensor(w, shape: [4, 5], device: device), bias: Tensor(b, shape: [4], device: device))
        try assertClose(out, expected, shape: [2, 3, 4], rtol: 1e-5, atol: 1e-6)
        // A transposed (non-contiguous) input, and a 1-D one.
        let xt = try Tensor(Reference.transpose(Array(x[..<15]), rows: 3, cols: 5), shape: [5, 3], device: device).transposed()
        try assertClose(xt.linear(weight: Tensor(w, shape: [4, 5], device: device), bias: Tensor(b, shape: [4], device: device)),
                        Array(expected[..<12]), shape: [3, 4], rtol: 1e-5, atol: 1e-6)
        let single = try Tensor(Array(x[..<5]), shape: [5], device: device)
            .linear(weight: Tensor(w, shape: [4, 5], device: device), bias: Tensor(b, shape: [4], device: device))
        try assertClose(single, Array(expected[..<4]), shape: [4], rtol: 1e-5, atol: 1e-6)
        try checkGradients(on: device, [(x, [2, 3, 5]), (w, [4, 5]), (b, [4])], "linear") {
            try $0[0].linear(weight: $0[1], bias: $0[2])
        }
        #expect(throws: CortadoError.self) {
            try Tensor.zeros([2, 5], device: device).linear(weight: Tensor.zeros([4, 5], device: device), bias: Tensor.zeros([3], device: device))
        }
    }
}

@Suite("GEMM summed over the batch")
struct BatchSummedGemmTests {
    @Test("C = α·Σ_b A[b]·B[b] + β·C matches a host loop, with β = 0 and β ≠ 0", arguments: TestDevices.all)
    func summedOverBatch(device: Device) throws {
        let (batch, m, k, n) = (5, 7, 6, 9)
        let a = Fixtures.values(batch * m * k, seed: 91), b = Fixtures.values(batch * k * n, seed: 92)
        let start = Fixtures.values(m * n, seed: 93)
        for beta: Float in [0, 0.5] {
            let ta = try Tensor(a, shape: [batch, m, k], device: device), tb = try Tensor(b, shape: [batch, k, n], device: device)
            let c = try Tensor(start, shape: [m, n], device: device).copied()
            try c.backend.gemm(
                GemmDescriptor(batch: batch, m: m, n: n, k: k, alpha: 2, beta: beta, reduceBatch: true),
                MatrixOperand(buffer: ta.buffer, offset: 0, rowStride: k, columnStride: 1, batchStride: m * k),
                MatrixOperand(buffer: tb.buffer, offset: 0, rowStride: n, columnStride: 1, batchStride: k * n),
                MatrixOperand(buffer: c.buffer, offset: 0, rowStride: n, columnStride: 1, batchStride: 0))
            var expected = start.map { $0 * beta }
            for s in 0..<batch {
                let product = Reference.matmul(Array(a[(s * m * k)..<((s + 1) * m * k)]), Array(b[(s * k * n)..<((s + 1) * k * n)]), m: m, k: k, n: n)
                for i in expected.indices { expected[i] += 2 * product[i] }
            }
            try assertClose(c, expected, rtol: 1e-5, atol: 1e-5, "β = \(beta)")
        }
    }
}
