import CVectorMath
import Testing

/// CVectorMath's int8 GEMM on each of its paths (VNNI `vpdpbusd`, `vpmaddwd` on int16 in 512-bit and
/// in 256-bit registers, plain C),
/// against integer sums and double-precision scaling, over odd shapes (tails of tiles, of blocks and
/// of groups of 4), both scale layouts (one per row, blocks of 32), extreme values (all ±127 and
/// −128 in the weights, which saturate `vpmaddubsw` but not these paths), and a split of the columns
/// between two calls; and the row quantiser against its definition.
@Suite("CVectorMath int8 GEMM", .serialized)
struct GemmInt8Tests {
    static let paths: [cortado_qgemm_path] = [CORTADO_QGEMM_VNNI, CORTADO_QGEMM_MADDWD, CORTADO_QGEMM_AVX2, CORTADO_QGEMM_PLAIN]
        .filter { cortado_qgemm_path_available($0) != 0 }

    /// int8 values from `seed`, or all of them at the extremes.
    static func int8s(_ count: Int, seed: UInt64, extreme: Bool) -> [Int8] {
        Fixtures.values(count, seed: seed).enumerated().map { index, value in
            extreme ? (index % 3 == 0 ? -128 : 127) : Int8((value * 127).rounded())
        }
    }

    /// The product by its definition, in int64 and double.
    static func reference(
        a: [Int8], aScales: [Float], w: [Int8], wScales: [Float], bias: [Float]?, m: Int, n: Int, k: Int, block: Int
    ) -> [Float] {
        let blocks = (k + block - 1) / block
        var out = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var total = Double(bias?[j] ?? 0)
                for b in 0..<blocks {
                    var sum: Int64 = 0
                    for p in (b * block)..<min(k, (b + 1) * block) { sum += Int64(a[i * k + p]) * Int64(w[j * k + p]) }
                    total += Double(sum) * Double(aScales[i * blocks + b]) * Double(wScales[j * blocks + b])
                }
                out[i * n + j] = Float(total)
            }
        }
        return out
    }

    /// Runs the product in two column halves.
    static func run(
        a: [Int8], aScales: [Float], w: [Int8], wScales: [Float], bias: [Float]?, m: Int, n: Int, k: Int, block: Int
    ) -> [Float] {
        var c = [Float](repeating: .nan, count: m * n)
        a.withUnsafeBufferPointer { ap in
            w.withUnsafeBufferPointer { wp in
                aScales.withUnsafeBufferPointer { asp in
                    wScales.withUnsafeBufferPointer { wsp in
                        c.withUnsafeMutableBufferPointer { cp in
                            func go(_ biasPointer: UnsafePointer<Float>?) {
                                var g = cortado_qgemm(
                                    a: ap.baseAddress, a_row: k, a_scales: asp.baseAddress, w: wp.baseAddress, w_row: k,
                                    w_scales: wsp.baseAddress, bias: biasPointer, c: cp.baseAddress, c_row: n,
                                    m: m, n: n, k: k, block: block)
                                let bytes = cortado_qgemm_scratch_bytes(&g)
                                let scratch = UnsafeMutableRawPointer.allocate(byteCount: 2 * bytes, alignment: 64)
                                defer { scratch.deallocate() }
                                cortado_qgemm_columns(&g, 0, n / 2, scratch)
                                cortado_qgemm_columns(&g, n / 2, n, scratch + bytes)
                            }
                            if let bias { bias.withUnsafeBufferPointer { go($0.baseAddress) } } else { go(nil) }
                        }
                    }
                }
            }
        }
        return c
    }

    @Test("products match integer sums scaled in double", arguments: paths)
    func products(path: cortado_qgemm_path) {
        cortado_qgemm_set_path(path)
        defer { cortado_qgemm_set_path(CORTADO_QGEMM_AUTO) }
        #expect(cortado_qgemm_current_path() == path)
        for (m, n, k) in [(13, 45, 7), (97, 33, 130), (1, 600, 3), (25, 1, 64), (30, 70, 385)] {
            for block in [k, 32] {
                for extreme in [false, true] {
                    let blocks = (k + block - 1) / block
                    let a = Self.int8s(m * k, seed: 31, extreme: extreme).map { max($0, -127) }
                    let w = Self.int8s(n * k, seed: 32, extreme: extreme)
                    let aScales = Fixtures.values(m * blocks, seed: 33, low: 0.001, high: 0.02)
                    let wScales = Fixtures.values(n * blocks, seed: 34, low: 0.001, high: 0.02)
                    let bias = block == k ? Fixtures.values(n, seed: 35) : nil
                    let expected = Self.reference(a: a, aScales: aScales, w: w, wScales: wScales, bias: bias, m: m, n: n, k: k, block: block)
                    let actual = Self.run(a: a, aScales: aScales, w: w, wScales: wScales, bias: bias, m: m, n: n, k: k, block: block)
                    assertClose(actual, expected, rtol: 1e-5, atol: 1e-5,
                                "\(m)×\(n)×\(k) block \(block) extreme \(extreme) path \(path.rawValue)")
                }
            }
        }
    }

    @Test("the row quantiser rounds x · m / (max |x · m| / 127) to nearest, per block, on every path", arguments: paths)
    func quantizeRows(path: cortado_qgemm_path) {
        cortado_qgemm_set_path(path)
        defer { cortado_qgemm_set_path(CORTADO_QGEMM_AUTO) }
        let (rows, k) = (5, 70)
        var x = Fixtures.values(rows * k, seed: 41, low: -3, high: 3)
        for p in 0..<k { x[2 * k + p] = 0 }  // an all-zero row
        x[3 * k + 5] = 1000  // an outlier
        // SmoothQuant's column multipliers; `nil`: none.
        let multipliers: [[Float]?] = [nil, Fixtures.values(k, seed: 42, low: 0.05, high: 4)]
        for mul in multipliers {
            for block in [k, 32] {
                let blocks = (k + block - 1) / block
                var q = [Int8](repeating: 99, count: rows * k)
                var scales = [Float](repeating: .nan, count: rows * blocks)
                q.withUnsafeMutableBufferPointer { qp in
                    scales.withUnsafeMutableBufferPointer { sp in
                        // Two calls, as two threads would make them.
                        if let mul {
                            cortado_quantize_rows_scaled(x, k, 0, 2, k, block, nil, mul, qp.baseAddress, sp.baseAddress)
                            cortado_quantize_rows_scaled(x, k, 2, rows, k, block, nil, mul, qp.baseAddress, sp.baseAddress)
                        } else {
                            cortado_quantize_rows(x, k, 0, 2, k, block, qp.baseAddress, sp.baseAddress)
                            cortado_quantize_rows(x, k, 2, rows, k, block, qp.baseAddress, sp.baseAddress)
                        }
                    }
                }
                let value = { (r: Int, p: Int) -> Float in x[r * k + p] * (mul?[p] ?? 1) }
                for r in 0..<rows {
                    for b in 0..<blocks {
                        let range = (b * block)..<min(k, (b + 1) * block)
                        let largest = range.map { abs(value(r, $0)) }.max() ?? 0
                        let scale = largest / 127
                        #expect(scales[r * blocks + b] == scale, "row \(r) block \(b) path \(path.rawValue)")
                        for p in range {
                            let want = scale == 0 ? 0 : Int8(max(-127, min(127, (value(r, p) * (1 / scale)).rounded(.toNearestOrEven))))
                            #expect(q[r * k + p] == want, "row \(r) column \(p) block \(block) multipliers \(mul != nil) path \(path.rawValue)")
                        }
                    }
                }
            }
        }
    }

    @Test("a row holding NaN gets a NaN scale, never a trap", arguments: paths)
    func nonFinite(path: cortado_qgemm_path) {
        cortado_qgemm_set_path(path)
        defer { cortado_qgemm_set_path(CORTADO_QGEMM_AUTO) }
        for position in [17, 41] {  // in a whole vector, in the tail
            var x = [Float](repeating: 1, count: 43)
            x[position] = .nan
            var q = [Int8](repeating: 0, count: 43)
            var scale: [Float] = [0]
            cortado_quantize_rows(x, 43, 0, 1, 43, 43, &q, &scale)
            #expect(scale[0].isNaN, "NaN at \(position), path \(path.rawValue)")
            #expect(q.allSatisfy { $0 == 0 })
        }
    }
}
