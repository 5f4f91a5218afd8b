import Cortado
import Foundation
import Testing

/// Split-K products on OpenCL: a small result with a long k is computed as partial products over
/// slices of k, summed (`OpenCLBackend.splitK`), and equals the product.
@Suite("OpenCL split-K products")
struct SplitKGemmTests {
    @Test("a GPU's small products with a long k are split; large or batched ones are not")
    func decision() {
        let gpu = KernelParameters.defaults(for: .gpu).gemm, cpu = KernelParameters.defaults(for: .cpu).gemm
        // The cnn's dense layer at batch 64 on a 132-unit GPU: one 64 × 64 tile.
        #expect(OpenCLBackend.splitK(m: 64, n: 64, k: 5408, batch: 1, gemm: gpu, computeUnits: 132) == 21)
        #expect(OpenCLBackend.splitK(m: 64, n: 64, k: 5408, batch: 2, gemm: gpu, computeUnits: 132) == 1)
        #expect(OpenCLBackend.splitK(m: 64, n: 5408, k: 64, batch: 1, gemm: gpu, computeUnits: 132) == 1)
        #expect(OpenCLBackend.splitK(m: 2048, n: 1536, k: 384, batch: 1, gemm: gpu, computeUnits: 132) == 1)
        #expect(OpenCLBackend.splitK(m: 64, n: 64, k: 300, batch: 1, gemm: gpu, computeUnits: 132) == 1)
        // A 2-core CPU device's register-blocked tiles already fill it.
        #expect(OpenCLBackend.splitK(m: 64, n: 64, k: 5408, batch: 1, gemm: cpu, computeUnits: 2) == 1)
    }

    @Test("a split product equals the double-precision one, with alpha, beta, a transposed B and a remainder of k",
          arguments: [DType.float32, .bfloat16])
    func splitProduct(dtype: DType) throws {
        // The GPU kernel table on PoCL: 64 × 64 tiles, so one tile on 2 compute units splits k in 4.
        let device = Device(kind: .opencl, index: 0, profile: .gpu, instance: 340 + (dtype == .float32 ? 0 : 1))
        let backend = try OpenCLBackend(record: DeviceRegistry.shared.record(for: device), device: device)
        let (m, n, k) = (37, 45, 3003)
        let slices = OpenCLBackend.splitK(m: m, n: n, k: k, batch: 1, gemm: backend.parameters.gemm, computeUnits: 2)
        #expect(slices == 4)
        let (alpha, beta): (Float, Float) = (0.5, 0.75)
        // Values exact in bfloat16, so the reference multiplies what the device reads.
        func rounded(_ values: [Float]) -> [Float] { values.map { ($0 * 64).rounded() / 64 } }
        let a = rounded(Fixtures.values(m * k, seed: 41)), bT = rounded(Fixtures.values(n * k, seed: 42))
        let c0 = Fixtures.values(m * n, seed: 43)
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var total = 0.0
                for p in 0..<k { total += Double(a[i * k + p]) * Double(bT[j * k + p]) }
                expected[i * n + j] = Float(Double(alpha) * total + Double(beta) * Double(c0[i * n + j]))
            }
        }
        let aBuffer = try upload(a, dtype, backend), bBuffer = try upload(bT, dtype, backend)
        let cBuffer = try upload(c0, .float32, backend)
        // B is k × n, stored transposed (n × k): column stride k.
        try backend.gemm(
            GemmDescriptor(batch: 1, m: m, n: n, k: k, alpha: alpha, beta: beta),
            MatrixOperand(buffer: aBuffer, offset: 0, rowStride: k, columnStride: 1, batchStride: 0),
            MatrixOperand(buffer: bBuffer, offset: 0, rowStride: 1, columnStride: k, batchStride: 0),
            MatrixOperand(buffer: cBuffer, offset: 0, rowStride: n, columnStride: 1, batchStride: 0))
        var result = [Float](repeating: .nan, count: m * n)
        try result.withUnsafeMutableBytes { try backend.read(cBuffer, atByte: 0, into: $0) }
        assertClose(result, expected, rtol: 1e-4, atol: 1e-4, "\(dtype)")
    }

    /// `values` in a new buffer of `dtype` on `backend` (rounded to it on the device).
    private func upload(_ values: [Float], _ dtype: DType, _ backend: OpenCLBackend) throws -> DeviceBuffer {
        let floats = try backend.allocator.allocate(count: values.count, dtype: .float32)
        try values.withUnsafeBytes { try backend.write($0, to: floats, atByte: 0) }
        guard dtype != .float32 else { return floats }
        let typed = try backend.allocator.allocate(count: values.count, dtype: dtype)
        try backend.copy(StridedView(contiguous: floats, shape: [values.count]), to: StridedView(contiguous: typed, shape: [values.count]))
        return typed
    }
}
