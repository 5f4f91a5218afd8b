import CVectorMath
import Cortado
import Testing

/// CVectorMath's 16-bit GEMM on both of its paths (widened float32 tiles, and vdpbf16ps where the
/// processor has AVX-512 BF16) against products summed in double, over odd shapes (tails of tiles
/// and of blocks), transposed operands, every result type, alpha and beta, and a split of the
/// columns between two calls.
@Suite("CVectorMath 16-bit GEMM", .serialized)
struct Gemm16Tests {
    static let paths: [cortado_gemm16_path] = [CORTADO_GEMM16_WIDEN]
        + (cortado_gemm16_bf16_dot_available() != 0 ? [CORTADO_GEMM16_BF16_DOT] : [])

    /// Rounds `values` to `type` and returns (bits, the rounded values).
    static func rounded(_ values: [Float], _ type: DType) -> (bits: [UInt16], values: [Float]) {
        let bits = values.map { type == .bfloat16 ? BFloat16($0).bitPattern : Float16($0).bitPattern }
        return (bits, bits.map { type == .bfloat16 ? BFloat16(bitPattern: $0).float : Float(Float16(bitPattern: $0)) })
    }

    @Test("products match double-precision sums", arguments: paths)
    func products(path: cortado_gemm16_path) throws {
        cortado_gemm16_set_path(path)
        defer { cortado_gemm16_set_path(CORTADO_GEMM16_AUTO) }
        for (m, n, k) in [(13, 45, 7), (97, 33, 130), (1, 600, 3), (25, 1, 1), (20, 64, 70), (5, 64, 37)] {
            for operands in [DType.bfloat16, .float16] where path == CORTADO_GEMM16_WIDEN || operands == .bfloat16 {
                // B row-major, transposed (columns contiguous), or every other column of a wider
                // matrix (neither contiguous); A row-major or transposed.
                for (bLayout, transposedA) in [(0, false), (1, false), (2, false), (0, true), (1, true)] {
                    let (aBits, a) = Self.rounded(Fixtures.values(m * k, seed: 11), operands)  // a[i][p] at i*k+p, or p*m+i transposed
                    let (bBits, b) = Self.rounded(Fixtures.values(k * n * 2, seed: 12), operands)  // b[p][j] at p*n+j, j*k+p transposed, or p*2n+2j
                    let oldC = Fixtures.values(m * n, seed: 13)
                    let (alpha, beta): (Float, Float) = (0.75, bLayout != 0 ? 0.5 : 0)
                    func aValue(_ i: Int, _ p: Int) -> Float { transposedA ? a[p * m + i] : a[i * k + p] }
                    func bValue(_ p: Int, _ j: Int) -> Float {
                        switch bLayout {
                        case 0: return b[p * n + j]
                        case 1: return b[j * k + p]
                        default: return b[p * 2 * n + 2 * j]
                        }
                    }
                    var expected = [Double](repeating: 0, count: m * n)
                    for i in 0..<m {
                        for j in 0..<n {
                            var sum = 0.0
                            for p in 0..<k { sum += Double(aValue(i, p)) * Double(bValue(p, j)) }
                            expected[i * n + j] = Double(alpha) * sum + Double(beta) * Double(oldC[i * n + j])
                        }
                    }
                    var c = oldC
                    aBits.withUnsafeBufferPointer { ap in
                        bBits.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer { cp in
                                var g = cortado_gemm16(
                                    ab_type: operands == .bfloat16 ? CORTADO_GEMM16_BF16 : CORTADO_GEMM16_F16,
                                    a: ap.baseAddress, a_row: transposedA ? 1 : k, a_col: transposedA ? m : 1,
                                    b: bp.baseAddress,
                                    b_row: [n, 1, 2 * n][bLayout], b_col: [1, k, 2][bLayout],
                                    c_type: CORTADO_GEMM16_F32, c: cp.baseAddress, c_row: n,
                                    m: m, n: n, k: k, alpha: alpha, beta: beta)
                                // Each half in scratch sized for its columns, followed by a canary the
                                // call must leave alone.
                                let bytes = cortado_gemm16_scratch_bytes(&g, (n + 1) / 2), canary = 1 << 16
                                for (n0, n1) in [(0, n / 2), (n / 2, n)] {
                                    let scratch = UnsafeMutableRawPointer.allocate(byteCount: bytes + canary, alignment: 64)
                                    defer { scratch.deallocate() }
                                    (scratch + bytes).initializeMemory(as: UInt8.self, repeating: 0xA5, count: canary)
                                    cortado_gemm16_columns(&g, n0, n1, scratch)
                                    let tail = UnsafeBufferPointer(start: (scratch + bytes).assumingMemoryBound(to: UInt8.self), count: canary)
                                    #expect(tail.allSatisfy { $0 == 0xA5 }, "scratch overrun, columns \(n0)..<\(n1) of \(m)×\(n)×\(k)")
                                }
                            }
                        }
                    }
                    assertClose(c, expected.map(Float.init), rtol: 1e-5, atol: 1e-5,
                                "\(m)×\(n)×\(k) \(operands) B layout \(bLayout) transposed A \(transposedA) path \(path.rawValue)")
                }
            }
        }
    }

    @Test("16-bit results are the float32 result rounded once", arguments: paths)
    func narrowResults(path: cortado_gemm16_path) throws {
        cortado_gemm16_set_path(path)
        defer { cortado_gemm16_set_path(CORTADO_GEMM16_AUTO) }
        let (m, n, k) = (19, 70, 33)
        let (aBits, _) = Self.rounded(Fixtures.values(m * k, seed: 21), .bfloat16)
        let (bBits, _) = Self.rounded(Fixtures.values(k * n, seed: 22), .bfloat16)
        func run(_ type: cortado_gemm16_type, _ out: UnsafeMutableRawPointer, alpha: Float = 1, beta: Float = 0) {
            aBits.withUnsafeBufferPointer { ap in
                bBits.withUnsafeBufferPointer { bp in
                    var g = cortado_gemm16(ab_type: CORTADO_GEMM16_BF16, a: ap.baseAddress, a_row: k, a_col: 1,
                                           b: bp.baseAddress, b_row: n, b_col: 1, c_type: type, c: out, c_row: n,
                                           m: m, n: n, k: k, alpha: alpha, beta: beta)
                    let scratch = UnsafeMutableRawPointer.allocate(byteCount: cortado_gemm16_scratch_bytes(&g, n), alignment: 64)
                    defer { scratch.deallocate() }
                    cortado_gemm16_columns(&g, 0, n, scratch)
                }
            }
        }
        var single = [Float](repeating: 0, count: m * n), halves = [UInt16](repeating: 0, count: m * n)
        single.withUnsafeMutableBytes { run(CORTADO_GEMM16_F32, $0.baseAddress!) }
        halves.withUnsafeMutableBytes { run(CORTADO_GEMM16_BF16, $0.baseAddress!) }
        #expect(halves == single.map { BFloat16($0).bitPattern })
        halves.withUnsafeMutableBytes { run(CORTADO_GEMM16_F16, $0.baseAddress!) }
        #expect(halves == single.map { Float16($0).bitPattern })
        // With alpha alone, and with beta: C's old 16-bit value widened, alpha · product + beta · old
        // in float32, rounded once.
        for (type, round, widen) in [
            (CORTADO_GEMM16_BF16, { (x: Float) in BFloat16(x).bitPattern }, { (b: UInt16) in BFloat16(bitPattern: b).float }),
            (CORTADO_GEMM16_F16, { (x: Float) in Float16(x).bitPattern }, { (b: UInt16) in Float(Float16(bitPattern: b)) }),
        ] {
            for beta: Float in [0, -1.5] {
                let old = Fixtures.values(m * n, seed: 23).map(round)
                halves = old
                halves.withUnsafeMutableBytes { run(type, $0.baseAddress!, alpha: 0.5, beta: beta) }
                let expected = (0..<(m * n)).map { round(0.5 * single[$0] + (beta == 0 ? 0 : beta * widen(old[$0]))) }
                #expect(halves == expected, "beta \(beta)")
            }
        }
    }
}
