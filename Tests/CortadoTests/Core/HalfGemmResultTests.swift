import Cortado
import Testing

/// GEMM results stored in 16 bits: on CPU-type OpenCL devices whole 12 × 32 tiles of C are
/// converted and stored a float16 vector at a time, edge tiles an element at a time.
@Suite("GEMM with a 16-bit C")
struct HalfGemmResultTests {
    static let cases: [DTypeOnDevice] = [DType.float16, .bfloat16].flatMap { dtype in
        TestDevices.all.map { DTypeOnDevice(dtype: dtype, device: $0) }
    }

    @Test("whole and edge tiles at an odd offset and row stride, β = 0 and β ≠ 0, match a double loop rounded once; C's gaps keep their values",
          arguments: cases)
    func tiles(_ c: DTypeOnDevice) throws {
        // Two whole row tiles and an edge of 3, two whole column tiles and an edge of 6; every row of
        // C starts at an odd element, so 16-bit vectors there are not 4-byte aligned.
        let (m, n, k, ldc, offset) = (27, 70, 19, 73, 1)
        let a = try Tensor(Fixtures.values(m * k, seed: 301), shape: [m, k], dtype: c.dtype, device: c.device)
        let b = try Tensor(Fixtures.values(k * n, seed: 302), shape: [k, n], dtype: c.dtype, device: c.device)
        let (storedA, storedB) = (try a.toArray(), try b.toArray())
        let tolerance: Float = c.dtype == .bfloat16 ? 8e-3 : 1e-3  // one unit in the last place
        for beta: Float in [0, 0.5] {
            let result = try Tensor(Fixtures.values(offset + m * ldc, seed: 303), shape: [offset + m * ldc],
                                    dtype: c.dtype, device: c.device)
            let before = try result.toArray()
            try result.backend.gemm(
                GemmDescriptor(batch: 1, m: m, n: n, k: k, alpha: 0.75, beta: beta, reduceBatch: false),
                MatrixOperand(buffer: a.buffer, offset: 0, rowStride: k, columnStride: 1, batchStride: 0),
                MatrixOperand(buffer: b.buffer, offset: 0, rowStride: n, columnStride: 1, batchStride: 0),
                MatrixOperand(buffer: result.buffer, offset: offset, rowStride: ldc, columnStride: 1, batchStride: 0))
            let after = try result.toArray()
            var inside: (actual: [Float], expected: [Float]) = ([], []), gaps: (actual: [Float], expected: [Float]) = ([], [])
            for index in after.indices {
                let row = (index - offset) / ldc, column = (index - offset) % ldc
                guard index >= offset, row < m, column < n else {
                    gaps.actual.append(after[index])
                    gaps.expected.append(before[index])
                    continue
                }
                var sum = 0.0
                for p in 0..<k { sum += Double(storedA[row * k + p]) * Double(storedB[p * n + column]) }
                let exact = 0.75 * sum + Double(beta) * Double(before[index])
                inside.actual.append(after[index])
                inside.expected.append(Float(DTypeReference.convert(Double(Float(exact)), from: .float32, to: c.dtype)))
            }
            let context = "\(c.dtype) on \(c.device), β = \(beta)"
            assertClose(inside.actual, inside.expected, rtol: tolerance, atol: 1e-6, "\(context): C")
            // Rounded once to nearest: a float sum differs from the double one only next to a tie,
            // where truncating (or rounding twice) would miss half the time.
            let differing = zip(inside.actual, inside.expected).filter { $0 != $1 }.count
            #expect(differing * 50 <= inside.actual.count, "\(context): \(differing) of \(inside.actual.count) not the nearest value")
            assertClose(gaps.actual, gaps.expected, rtol: 0, atol: 0, "\(context): outside C")
        }
    }
}
