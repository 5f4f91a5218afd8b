/// exp, sigmoid, tanh, erf and GELU on eight floats at a time. Swift calls libm once per element for these,
/// which dominated the CPU's LSTM steps (about 160 µs of a 200 µs step); these polynomials (Cephes'
/// single-precision ones) stay within 2.2e-7 relative error of libm and use only SSE2-era
/// operations, so the baseline x86-64 build vectorises them (measured: exp 2.2 ns, tanh 3.3 ns per
/// element against libm's 3.3 and 15 ns).
enum VectorTranscendentals {
    typealias V = SIMD8<Float>
    private typealias U = SIMD8<UInt32>
    private typealias I = SIMD8<Int32>

    /// eˣ: x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by a degree-7 polynomial, 2ⁿ from the exponent bits.
    /// Results below the smallest normal float flush to zero; past the top they are +∞; NaN stays NaN.
    @inline(__always)
    static func exp(_ input: V) -> V {
        let x0 = minimum(maximum(input, V(repeating: -88.0)), V(repeating: 88.72283))
        // Round x·log2(e) to the nearest integer with the 1.5·2²³ trick (no SSE4.1 rounding needed).
        let magic = V(repeating: 12_582_912)
        let n = (x0 * 1.442_695_04 + magic) - magic
        var r = x0 - n * 0.693_359_375
        r = r - n * -2.121_944_4e-4
        var p = V(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let y = p * r * r + r + 1
        // 2ⁿ: the low mantissa bits of 1.5·2²³ + 127 + n hold the biased exponent; shift it into
        // place. n = −127 gives the bits of +0, which is the flush to zero.
        let scale = float(bits(n + V(repeating: 12_582_912 + 127)) &<< 23)
        let finite = select(greater(input, V(repeating: 88.72283)), V(repeating: .infinity), y * scale)
        return select(isNaN(input), input, finite)
    }

    /// 1 / (1 + e^−x).
    @inline(__always)
    static func sigmoid(_ x: V) -> V {
        1 / (1 + exp(-x))
    }

    /// tanh: an odd polynomial for |x| < 0.625, else 1 − 2 / (e^{2|x|} + 1) with the sign of x.
    @inline(__always)
    static func tanh(_ x: V) -> V {
        let a = float(bits(x) & U(repeating: 0x7FFF_FFFF))
        let z = x * x
        var p = V(repeating: -5.704_988_727_45e-3)
        p = p * z + 2.063_908_879_54e-2
        p = p * z - 5.373_971_555_31e-2
        p = p * z + 1.333_144_220_36e-1
        p = p * z - 3.333_328_194_22e-1
        let small = p * z * x + x
        let large = 1 - 2 / (exp(2 * a) + 1)
        let signed = float(bits(large) | (bits(x) & U(repeating: 0x8000_0000)))
        let chosen = select(greater(V(repeating: 0.625), a), small, signed)
        return select(isNaN(x), x, chosen)
    }

    /// erf, within 1.3e-7 absolute and 1.8e-7 relative error of the exact function (measured on a
    /// grid of 2·10⁶ points in [−6, 6]): x·P(x²) for |x| ≤ 0.921875, else ±(1 − e^{Q(|x|)}) with
    /// Q ≈ log erfc, and ±1 from |x| = 4 on. P (degree 6 in x²) and Q (degree 8) are
    /// minimax fits made for Cortado with NumPy/SciPy (iteratively reweighted least squares).
    @inline(__always)
    static func erf(_ x: V) -> V {
        let a = float(bits(x) & U(repeating: 0x7FFF_FFFF))
        let z = x * x
        var p = V(repeating: 8.373_036e-5)
        p = p * z - 8.143_460_1e-4
        p = p * z + 5.201_105_5e-3
        p = p * z - 2.685_943_06e-2
        p = p * z + 1.128_369_644e-1
        p = p * z - 3.761_263_49e-1
        p = p * z + 1.128_379_226
        let small = p * x
        let t = minimum(a, V(repeating: 4))
        var q = V(repeating: -5.500_177_7e-7)
        q = q * t - 1.397_033_6e-5
        q = q * t + 3.949_624_4e-4
        q = q * t - 4.048_591_5e-3
        q = q * t + 2.488_703_65e-2
        q = q * t - 1.080_035_716e-1
        q = q * t - 6.335_484_98e-1
        q = q * t - 1.129_432_559
        q = q * t + 1.602_061_2e-4
        let tail = select(greater(V(repeating: 4), a), 1 - exp(q), V(repeating: 1))
        let large = float(bits(tail) | (bits(x) & U(repeating: 0x8000_0000)))
        let chosen = select(greater(a, V(repeating: 0.921_875)), large, small)
        return select(isNaN(x), x, chosen)
    }

    /// GELU with the exact erf: x · Φ(x) = x/2 · (1 + erf(x/√2)).
    @inline(__always)
    static func gelu(_ x: V) -> V {
        0.5 * x * (1 + erf(x * 0.707_106_781))
    }

    /// dGELU/dx = Φ(x) + x · φ(x).
    @inline(__always)
    static func geluGradient(_ x: V) -> V {
        0.5 * (1 + erf(x * 0.707_106_781)) + x * 0.398_942_28 * exp(-0.5 * x * x)
    }

    // The standard library's lane comparisons and `replacing(with:where:)` are generic and compile
    // to scalar loops (an eightfold slowdown measured); these masks are plain integer lane operations.

    @inline(__always)
    private static func bits(_ x: V) -> U { unsafeBitCast(x, to: U.self) }

    @inline(__always)
    private static func float(_ x: U) -> V { unsafeBitCast(x, to: V.self) }

    /// All-ones lanes where a > b: the sign bit of b − a, spread by an arithmetic shift.
    @inline(__always)
    private static func greater(_ a: V, _ b: V) -> U {
        unsafeBitCast(unsafeBitCast(b - a, to: I.self) &>> 31, to: U.self)
    }

    /// All-ones lanes where x is NaN: its magnitude's bits exceed those of +∞.
    @inline(__always)
    private static func isNaN(_ x: V) -> U {
        let magnitude = unsafeBitCast(bits(x) & U(repeating: 0x7FFF_FFFF), to: I.self)
        return unsafeBitCast((I(repeating: 0x7F80_0000) &- magnitude) &>> 31, to: U.self)
    }

    /// The smaller of each pair of lanes (`b` where either is NaN). The standard library's
    /// `pointwiseMin` is not inlined here: it cost a call per eight lanes.
    @inline(__always)
    static func minimum(_ a: V, _ b: V) -> V {
        select(greater(b, a), a, b)
    }

    /// The larger of each pair of lanes (`b` where either is NaN).
    @inline(__always)
    static func maximum(_ a: V, _ b: V) -> V {
        select(greater(a, b), a, b)
    }

    /// `whereTrue` in the lanes set in `mask`, `otherwise` elsewhere.
    @inline(__always)
    private static func select(_ mask: U, _ whereTrue: V, _ otherwise: V) -> V {
        float((bits(otherwise) & ~mask) | (bits(whereTrue) & mask))
    }

    /// `out = a · f(b)` over `count` floats, eight at a time, the tail padded (the backward of a
    /// unary function whose derivative is `f`).
    @inline(__always)
    static func scaledMap(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, _ count: Int,
        _ f: (V) -> V
    ) {
        var i = 0
        while i + 8 <= count {
            let av = UnsafeRawPointer(a + i).loadUnaligned(as: V.self)
            let value = av * f(UnsafeRawPointer(b + i).loadUnaligned(as: V.self))
            UnsafeMutableRawPointer(target + i).storeBytes(of: value, as: V.self)
            i += 8
        }
        if i < count {
            var (al, bl) = (V(repeating: 0), V(repeating: 0))
            for lane in 0..<(count - i) { (al[lane], bl[lane]) = (a[i + lane], b[i + lane]) }
            let value = al * f(bl)
            for lane in 0..<(count - i) { target[i + lane] = value[lane] }
        }
    }

    /// Applies `f` to `count` floats from `source` into `target`, eight at a time, the tail padded.
    @inline(__always)
    static func map(
        _ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, _ count: Int, _ f: (V) -> V
    ) {
        var i = 0
        while i + 8 <= count {
            let value = f(UnsafeRawPointer(source + i).loadUnaligned(as: V.self))
            UnsafeMutableRawPointer(target + i).storeBytes(of: value, as: V.self)
            i += 8
        }
        if i < count {
            var lanes = V(repeating: 0)
            for lane in 0..<(count - i) { lanes[lane] = source[i + lane] }
            let value = f(lanes)
            for lane in 0..<(count - i) { target[i + lane] = value[lane] }
        }
    }
}
