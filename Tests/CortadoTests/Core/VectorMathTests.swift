import CVectorMath
import Cortado
import Foundation
import Testing

/// Every compiled version of the CPU's vectorised loops (baseline, AVX2+FMA, AVX-512, as far as this
/// processor runs them) against double-precision libm, over the whole useful range and at the
/// special values. The op tests only reach the version the processor picks.
@Suite("CVectorMath loops")
struct VectorMathTests {
    static let levels: [cortado_vm_level] = [CORTADO_VM_BASELINE, CORTADO_VM_AVX2_FMA, CORTADO_VM_AVX512]
        .filter { cortado_vm_kernels_for($0) != nil }

    /// 4099 points spread over [low, high]: a count that leaves a tail after whole vectors.
    static func grid(_ low: Float, _ high: Float) -> [Float] {
        (0..<4099).map { low + (high - low) * Float($0) / 4098 }
    }

    /// Runs `loop` on `input` and returns the output.
    static func run(_ input: [Float], _ loop: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> [Float] {
        var output = [Float](repeating: .nan, count: input.count)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in loop(x.baseAddress!, y.baseAddress!, x.count) }
        }
        return output
    }

    /// The standard normal CDF, Φ.
    static func phi(_ x: Double) -> Double { 0.5 * (1 + erf(x / 2.0.squareRoot())) }

    @Test("the baseline version is always there")
    func baselineExists() {
        #expect(cortado_vm_kernels_for(CORTADO_VM_BASELINE) != nil)
        #expect(cortado_vm_kernels_for(cortado_vm_supported_level()) != nil)
    }

    @Test("exp(x − shift) matches libm, flushes to 0 and overflows to ∞", arguments: levels)
    func exp(level: cortado_vm_level) throws {
        let k = try #require(cortado_vm_kernels_for(level)).pointee
        let x = Self.grid(-80, 80)
        let shifted = Self.run(x) { k.exp($0, $1, $2, 2.5) }
        // The reference takes the same float x − shift (its rounding alone moves e^(x − shift) by up to 4e-6).
        assertClose(shifted, x.map { Float(Foundation.exp(Double($0 - 2.5))) }, rtol: 4e-7, atol: 0, "level \(level.rawValue)")
        let special: [Float] = [.nan, .infinity, -.infinity, 100, -100, 0]
        let out = Self.run(special) { k.exp($0, $1, $2, 0) }
        #expect(out[0].isNaN)
        #expect(Array(out[1...]) == [.infinity, 0, .infinity, 0, 1])
    }

    @Test("sigmoid and tanh match libm and saturate", arguments: levels)
    func sigmoidAndTanh(level: cortado_vm_level) throws {
        let k = try #require(cortado_vm_kernels_for(level)).pointee
        let x = Self.grid(-20, 20)
        assertClose(Self.run(x) { k.sigmoid($0, $1, $2) }, x.map { Float(1 / (1 + Foundation.exp(-Double($0)))) },
                    rtol: 4e-7, atol: 1e-12, "sigmoid, level \(level.rawValue)")
        assertClose(Self.run(x) { k.tanh($0, $1, $2) }, x.map { Float(Foundation.tanh(Double($0))) },
                    rtol: 4e-7, atol: 1e-7, "tanh, level \(level.rawValue)")
        let special: [Float] = [.infinity, -.infinity, 50, -200]
        #expect(Self.run(special) { k.sigmoid($0, $1, $2) } == [1, 0, 1, 0])
        #expect(Self.run(special) { k.tanh($0, $1, $2) } == [1, -1, 1, -1])
        #expect(Self.run([.nan]) { k.tanh($0, $1, $2) }[0].isNaN)
    }

    @Test("GELU and its gradient match the erf closed form", arguments: levels)
    func gelu(level: cortado_vm_level) throws {
        let k = try #require(cortado_vm_kernels_for(level)).pointee
        let x = Self.grid(-10, 10)
        assertClose(Self.run(x) { k.gelu($0, $1, $2) }, x.map { Float(Double($0) * Self.phi(Double($0))) },
                    rtol: 1e-6, atol: 5e-7, "gelu, level \(level.rawValue)")
        let grad = Self.grid(-2, 2)
        var out = [Float](repeating: .nan, count: x.count)
        grad.withUnsafeBufferPointer { g in
            x.withUnsafeBufferPointer { xs in
                out.withUnsafeMutableBufferPointer { k.gelu_backward(g.baseAddress!, xs.baseAddress!, $0.baseAddress!, x.count) }
            }
        }
        let expected = zip(grad, x).map { g, v -> Float in
            let d = Double(v)
            return Float(Double(g) * (Self.phi(d) + d * Foundation.exp(-0.5 * d * d) / (2 * Double.pi).squareRoot()))
        }
        assertClose(out, expected, rtol: 1e-6, atol: 5e-7, "gelu backward, level \(level.rawValue)")
    }
}

@Suite("OpenBLAS kernel advice")
struct BlasAdviceTests {
    @Test("generic kernels on a processor with AVX-512 or AVX2 name the OPENBLAS_CORETYPE to set")
    func advice() throws {
        let avx512 = try #require(Device.blasAdvice(core: "Prescott", level: CORTADO_VM_AVX512, coreTypeSet: false))
        #expect(avx512.contains("OPENBLAS_CORETYPE=SkylakeX") && avx512.contains("Prescott"))
        let avx2 = try #require(Device.blasAdvice(core: "Nehalem", level: CORTADO_VM_AVX2_FMA, coreTypeSet: false))
        #expect(avx2.contains("OPENBLAS_CORETYPE=Haswell"))
    }

    @Test("no advice for matching kernels, for a baseline processor, or when the user chose the kernels")
    func noAdvice() {
        #expect(Device.blasAdvice(core: "Cooperlake", level: CORTADO_VM_AVX512, coreTypeSet: false) == nil)
        #expect(Device.blasAdvice(core: "Prescott", level: CORTADO_VM_BASELINE, coreTypeSet: false) == nil)
        #expect(Device.blasAdvice(core: "Prescott", level: CORTADO_VM_AVX512, coreTypeSet: true) == nil)
    }
}

@Suite("CVectorMath pooling and Adam")
struct VectorMathTrainingLoopTests {
    /// The 2×2 window's value and position as the general pooling path defines them: the first
    /// maximum in row-major order, or the first NaN.
    static func window(_ plane: [Float], width: Int, oy: Int, ox: Int) -> (Float, Int32) {
        let top = 2 * oy * width + 2 * ox
        let positions = [top, top + 1, top + width, top + width + 1]
        if let nan = positions.first(where: { plane[$0].isNaN }) { return (.nan, Int32(nan)) }
        var best = positions[0]
        for p in positions.dropFirst() where plane[p] > plane[best] { best = p }
        return (plane[best], Int32(best))
    }

    @Test("2×2 max pooling: values and indices with ties, NaNs, odd sizes and partial vectors", arguments: VectorMathTests.levels)
    func maxPool(level: cortado_vm_level) throws {
        let k = try #require(cortado_vm_kernels_for(level)).pointee
        // Small integers make ties common; 27 × 39 leaves an odd row and column, and rows of 19
        // outputs a partial vector.
        let (planes, height, width, outHeight, outWidth) = (3, 27, 39, 13, 19)
        var x = (0..<(planes * height * width)).map { Float(($0 * 7919) % 7) - 3 }
        x[5] = .nan
        x[width + 8] = .nan
        x[width + 9] = .nan
        var y = [Float](repeating: 0, count: planes * outHeight * outWidth)
        var indices = [Int32](repeating: -1, count: y.count)
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { ys in
                indices.withUnsafeMutableBufferPointer {
                    k.max_pool_2x2(xs.baseAddress!, ys.baseAddress!, $0.baseAddress!, planes, height, width, outHeight, outWidth)
                }
            }
        }
        var mismatches: [String] = []
        for p in 0..<planes {
            let plane = Array(x[(p * height * width)..<((p + 1) * height * width)])
            for oy in 0..<outHeight {
                for ox in 0..<outWidth {
                    let (value, at) = Self.window(plane, width: width, oy: oy, ox: ox)
                    let o = (p * outHeight + oy) * outWidth + ox
                    if !(value == y[o] || (value.isNaN && y[o].isNaN)) || at != indices[o] {
                        mismatches.append("plane \(p) (\(oy), \(ox)): \(y[o])@\(indices[o]), expected \(value)@\(at)")
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "level \(level.rawValue): \(mismatches.prefix(4))")
    }

    @Test("2×2 max pooling backward: each gradient at its window's maximum, zeros elsewhere, odd sizes",
          arguments: VectorMathTests.levels)
    func maxPoolBackward(level: cortado_vm_level) throws {
        let k = try #require(cortado_vm_kernels_for(level)).pointee
        let backward = try #require(k.max_pool_2x2_backward)
        // An odd row and column (not covered by any window), rows of 19 outputs (a partial vector)
        // and of 35 (two vectors and a tail); ties and NaNs place maxima at every window position.
        for (planes, height, width) in [(3, 27, 39), (2, 9, 70)] {
            let (outHeight, outWidth) = (height / 2, width / 2)
            var x = (0..<(planes * height * width)).map { Float(($0 * 7919) % 7) - 3 }
            x[5] = .nan
            x[width + 8] = .nan
            var y = [Float](repeating: 0, count: planes * outHeight * outWidth)
            var indices = [Int32](repeating: -1, count: y.count)
            k.max_pool_2x2(x, &y, &indices, planes, height, width, outHeight, outWidth)
            let dy = (0..<y.count).map { Float($0 % 11) + 1 }
            var dx = [Float](repeating: .nan, count: x.count)  // every element must be written
            backward(dy, indices, &dx, planes, height, width, outHeight, outWidth)
            var expected = [Float](repeating: 0, count: x.count)
            for p in 0..<planes {
                for o in 0..<(outHeight * outWidth) {
                    expected[p * height * width + Int(indices[p * outHeight * outWidth + o])] += dy[p * outHeight * outWidth + o]
                }
            }
            #expect(dx == expected, "level \(level.rawValue), \(height) × \(width)")
        }
    }

    @Test("an Adam step matches the formula in double precision", arguments: VectorMathTests.levels)
    func adam(level: cortado_vm_level) throws {
        let k = try #require(cortado_vm_kernels_for(level)).pointee
        let count = 1037
        var p = (0..<count).map { Float(sin(Double($0))) }
        let g = (0..<count).map { Float(cos(Double($0) * 0.7)) }
        var m = (0..<count).map { Float($0 % 5) * 0.01 }
        var v = (0..<count).map { Float($0 % 3) * 0.001 }
        let (p0, m0, v0) = (p, m, v)
        var step = cortado_vm_adam_step(
            beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step_size: 0.01, bias_correction2: 0.05, l2: 0.01, decay: 0.001)
        p.withUnsafeMutableBufferPointer { ps in
            m.withUnsafeMutableBufferPointer { ms in
                v.withUnsafeMutableBufferPointer { vs in
                    k.adam(ps.baseAddress!, g, ms.baseAddress!, vs.baseAddress!, count, &step)
                }
            }
        }
        // The constants as the loop sees them: float32, and 1 − β computed in float32.
        func d(_ x: Float) -> Double { Double(x) }
        let (beta1, beta2) = (d(step.beta1), d(step.beta2))
        let (keep, rest1, rest2) = (d(1 - step.decay), d(1 - step.beta1), d(1 - step.beta2))
        var expected = (p: [Float](), m: [Float](), v: [Float]())
        for i in 0..<count {
            let w = d(p0[i]) * keep, grad = d(g[i]) + d(step.l2) * w
            let m1 = beta1 * d(m0[i]) + rest1 * grad, v1 = beta2 * d(v0[i]) + rest2 * grad * grad
            expected.m.append(Float(m1))
            expected.v.append(Float(v1))
            expected.p.append(Float(w - d(step.step_size) * m1 / (v1.squareRoot() / d(step.bias_correction2) + d(step.epsilon))))
        }
        // m sums terms of opposite signs: its rounding error is absolute, about 1e-9 for terms near 0.01.
        assertClose(m, expected.m, rtol: 1e-6, atol: 1e-8, "m, level \(level.rawValue)")
        assertClose(v, expected.v, rtol: 1e-6, atol: 1e-10, "v, level \(level.rawValue)")
        assertClose(p, expected.p, rtol: 1e-6, atol: 1e-7, "parameter, level \(level.rawValue)")
    }
}

@Suite("CVectorMath recurrent cells")
struct VectorMathRecurrentCellTests {
    /// 3 rows (the last one masked out) of 21 units: a whole vector and a tail per gate; step 1 of 2.
    static let (batch, steps, hidden, step) = (3, 2, 21, 1)
    static let mask: [Float] = [1, 1, 1, 1, 1, 0]

    static func values(_ count: Int, _ seed: Int) -> [Float] {
        (0..<count).map { Float(sin(Double($0 * 7 + seed)) * 2) }
    }

    static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// Memory the C cells read and write, freed with the scope.
    final class Arena {
        private var blocks: [UnsafeMutablePointer<Float>] = []
        /// A copy of `values`.
        func copy(_ values: [Float]) -> UnsafeMutablePointer<Float> {
            let block = UnsafeMutablePointer<Float>.allocate(capacity: max(values.count, 1))
            block.initialize(from: values, count: values.count)
            blocks.append(block)
            return block
        }
        /// `count` zeros.
        func zeros(_ count: Int) -> UnsafeMutablePointer<Float> { copy([Float](repeating: 0, count: count)) }
        deinit { blocks.forEach { $0.deallocate() } }
    }

    static func array(_ p: UnsafeMutablePointer<Float>, from: Int = 0, _ count: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: p + from, count: count))
    }

    @Test("LSTM step forward and backward match the formulas, masked row included", arguments: VectorMathTests.levels)
    func lstm(level: cortado_vm_level) throws {
        let k = try #require(cortado_vm_kernels_for(level)).pointee
        let (B, T, H, t) = (Self.batch, Self.steps, Self.hidden, Self.step)
        let projected = Self.values(B * T * 4 * H, 1), recurrent = Self.values(B * 4 * H, 2)
        let hPrev = Self.values(B * H, 3), cPrev = Self.values(B * H, 4)
        let dOut = Self.values(B * T * H, 5), dhCarry = Self.values(B * H, 6), dcCarry = Self.values(B * H, 7)
        let arena = Arena()
        let gates = arena.zeros(B * 4 * H), hNext = arena.zeros(B * H), cNext = arena.zeros(B * H)
        let outputs = arena.zeros(B * T * H), byStep = arena.zeros(T * B * 4 * H), dProjected = arena.zeros(B * T * 4 * H)
        let dhPrev = arena.zeros(B * H), dcPrev = arena.zeros(B * H), mask = arena.copy(Self.mask)
        let cPrevMemory = arena.copy(cPrev)
        var forward = cortado_vm_lstm_forward_step(
            projected: arena.copy(projected), recurrent: arena.copy(recurrent), h_prev: arena.copy(hPrev),
            c_prev: cPrevMemory, mask: mask, gates: gates, h_next: hNext, c_next: cNext, outputs: outputs,
            step: t, steps: T, hidden: H)
        k.lstm_forward(&forward, 0, B)
        var backward = cortado_vm_lstm_backward_step(
            gates: gates, c_prev: cPrevMemory, d_outputs: arena.copy(dOut), dh_carry: arena.copy(dhCarry),
            dc_carry: arena.copy(dcCarry), mask: mask, d_gates_by_step: byStep, d_projected: dProjected,
            dh_prev: dhPrev, dc_prev: dcPrev, step: t, steps: T, batch: B, hidden: H)
        k.lstm_backward(&backward, 0, B)

        var expected = (h: [Float](), c: [Float](), dGates: [Float](), dh: [Float](), dc: [Float]())
        for b in 0..<B {
            let keep = Self.mask[b * T + t]
            var dRow = [Float](repeating: 0, count: 4 * H)
            for j in 0..<H {
                let z = (0..<4).map { projected[(b * T + t) * 4 * H + $0 * H + j] + recurrent[b * 4 * H + $0 * H + j] }
                let (i, f, g, o) = (Self.sigmoid(z[0]), Self.sigmoid(z[1]), Foundation.tanh(z[2]), Self.sigmoid(z[3]))
                let cell = f * cPrev[b * H + j] + i * g, tc = Foundation.tanh(cell)
                expected.h.append(keep * o * tc + (1 - keep) * hPrev[b * H + j])
                expected.c.append(keep * cell + (1 - keep) * cPrev[b * H + j])
                let dh = dOut[(b * T + t) * H + j] + dhCarry[b * H + j], dhm = keep * dh
                let dc = keep * dcCarry[b * H + j] + dhm * o * (1 - tc * tc)
                (dRow[j], dRow[H + j]) = (dc * g * i * (1 - i), dc * cPrev[b * H + j] * f * (1 - f))
                (dRow[2 * H + j], dRow[3 * H + j]) = (dc * i * (1 - g * g), dhm * tc * o * (1 - o))
                expected.dc.append(dc * f + (1 - keep) * dcCarry[b * H + j])
                expected.dh.append((1 - keep) * dh)
            }
            expected.dGates += dRow
        }
        let context = "level \(level.rawValue)"
        assertClose(Self.array(hNext, B * H), expected.h, rtol: 1e-5, atol: 1e-6, "h, \(context)")
        assertClose(Self.array(cNext, B * H), expected.c, rtol: 1e-5, atol: 1e-6, "c, \(context)")
        assertClose((0..<B).flatMap { Self.array(outputs, from: ($0 * T + t) * H, H) }, expected.h,
                    rtol: 1e-5, atol: 1e-6, "outputs, \(context)")
        assertClose((0..<B).flatMap { Self.array(dProjected, from: ($0 * T + t) * 4 * H, 4 * H) }, expected.dGates,
                    rtol: 1e-5, atol: 1e-6, "dProjected, \(context)")
        assertClose(Self.array(byStep, from: t * B * 4 * H, B * 4 * H), expected.dGates, rtol: 1e-5, atol: 1e-6,
                    "gradients by step, \(context)")
        assertClose(Self.array(dhPrev, B * H), expected.dh, rtol: 1e-5, atol: 1e-6, "dh, \(context)")
        assertClose(Self.array(dcPrev, B * H), expected.dc, rtol: 1e-5, atol: 1e-6, "dc, \(context)")
    }

    @Test("GRU step forward matches the formulas, masked row included", arguments: VectorMathTests.levels)
    func gru(level: cortado_vm_level) throws {
        let k = try #require(cortado_vm_kernels_for(level)).pointee
        let (B, T, H, t) = (Self.batch, Self.steps, Self.hidden, Self.step)
        let projected = Self.values(B * T * 3 * H, 11), recurrent = Self.values(B * 3 * H, 12)
        let bias = Self.values(3 * H, 13), hPrev = Self.values(B * H, 14)
        let arena = Arena()
        let saved = arena.zeros(B * 4 * H), hNext = arena.zeros(B * H), outputs = arena.zeros(B * T * H)
        var cell = cortado_vm_gru_forward_step(
            projected: arena.copy(projected), recurrent: arena.copy(recurrent), bias_hh: arena.copy(bias),
            h_prev: arena.copy(hPrev), mask: arena.copy(Self.mask), saved: saved, h_next: hNext, outputs: outputs,
            step: t, steps: T, hidden: H)
        k.gru_forward(&cell, 0, B)
        var expected = (h: [Float](), saved: [Float]())
        for b in 0..<B {
            let keep = Self.mask[b * T + t]
            var row = [Float](repeating: 0, count: 4 * H)
            for j in 0..<H {
                let x = (0..<3).map { projected[(b * T + t) * 3 * H + $0 * H + j] }
                let h = (0..<3).map { recurrent[b * 3 * H + $0 * H + j] + bias[$0 * H + j] }
                let (reset, update) = (Self.sigmoid(x[0] + h[0]), Self.sigmoid(x[1] + h[1]))
                let candidate = Foundation.tanh(x[2] + reset * h[2])
                (row[j], row[H + j], row[2 * H + j], row[3 * H + j]) = (reset, update, candidate, h[2])
                let previous = hPrev[b * H + j]
                expected.h.append(keep * ((1 - update) * candidate + update * previous) + (1 - keep) * previous)
            }
            expected.saved += row
        }
        assertClose(Self.array(hNext, B * H), expected.h, rtol: 1e-5, atol: 1e-6, "h, level \(level.rawValue)")
        assertClose(Self.array(saved, B * 4 * H), expected.saved, rtol: 1e-5, atol: 1e-6, "saved, level \(level.rawValue)")
    }
}

@Suite("CVectorMath Philox")
struct VectorMathPhiloxTests {
    @Test("uniform and Bernoulli floats equal the scalar Philox stream bit for bit, across a counter carry",
          arguments: VectorMathTests.levels)
    func stream(level: cortado_vm_level) throws {
        let k = try #require(cortado_vm_kernels_for(level)).pointee
        // 37 blocks and a partial one, starting 5 blocks below a carry into the counter's high word.
        let (count, seed, counter): (Int, UInt64, UInt64) = (4 * 37 + 2, 0x1234_5678_9ABC_DEF0, (1 << 32) - 5)
        let words = (0..<37 + 1).flatMap { block -> [UInt32] in
            let r = Philox.block(counter: counter &+ UInt64(block), seed: seed)
            return [r.x, r.y, r.z, r.w]
        }
        let unit: Float = 0x1.0p-24
        for bernoulli in [false, true] {
            var out = [Float](repeating: .nan, count: count)
            out.withUnsafeMutableBufferPointer {
                k.philox($0.baseAddress!, count, seed, counter, bernoulli ? 1 : 0, bernoulli ? 0.3 : -2, bernoulli ? 5 : 3)
            }
            let expected = words.prefix(count).map { w -> Float in
                bernoulli ? (Float(w >> 8) * unit < 0.3 ? 5 : 0) : -2 + (3 - -2) * Float(w >> 8) * unit
            }
            #expect(out == expected, "level \(level.rawValue), bernoulli \(bernoulli)")
        }
    }
}

/// The small GEMM of recurrent steps against a matrix packed once.
@Suite("CVectorMath packed GEMM")
struct VectorMathPackedGemmTests {
    @Test("packed GEMM: products against double precision, accumulation, tails, untouched padding, row independence",
          arguments: VectorMathTests.levels)
    func packedGemm(level: cortado_vm_level) throws {
        let kernels = try #require(cortado_vm_kernels_for(level)).pointee
        let gemm = try #require(kernels.gemm_packed)
        for (rows, k, n) in [(1, 1, 3), (5, 7, 32), (8, 128, 45), (13, 33, 64), (19, 16, 97)] {
            let a = (0..<rows * k).map { Float(sin(Double($0) * 0.77 + 0.3)) }
            // B is stored transposed ([n, k]), as W_hh is for the forward product.
            let bT = (0..<n * k).map { Float(cos(Double($0) * 1.31 + 0.1)) }
            var packed = [Float](repeating: .nan, count: cortado_vm_packed_count(k, n))
            cortado_vm_pack_panels(bT, 1, k, k, n, &packed)
            let ldc = n + 5  // columns n ..< ldc must stay untouched
            let start = (0..<rows * ldc).map { Float($0 % 7) - 3 }
            for accumulate in [0, 1] {
                var c = start
                gemm(a, k, rows, packed, k, n, &c, ldc, Int32(accumulate))
                var expected = start
                for r in 0..<rows {
                    for j in 0..<n {
                        let dot = (0..<k).reduce(0.0) { $0 + Double(a[r * k + $1]) * Double(bT[j * k + $1]) }
                        expected[r * ldc + j] = Float(dot + (accumulate == 1 ? Double(start[r * ldc + j]) : 0))
                    }
                }
                assertClose(c, expected, rtol: 1e-5, atol: 1e-5, "rows \(rows), k \(k), n \(n), level \(level.rawValue)")
                // Each row alone gives the same bits as within its tile.
                for r in [0, rows - 1] {
                    var alone = Array(start[(r * ldc)..<((r + 1) * ldc)])
                    a.withUnsafeBufferPointer { gemm($0.baseAddress! + r * k, k, 1, packed, k, n, &alone, ldc, Int32(accumulate)) }
                    #expect(alone == Array(c[(r * ldc)..<((r + 1) * ldc)]), "row \(r) of \(rows)")
                }
            }
        }
    }
}
