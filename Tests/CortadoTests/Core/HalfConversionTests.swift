import CVectorMath
import Cortado
import Testing

/// Every compiled level of the float32 ↔ float16 / bfloat16 conversions (portable C, F16C, AVX-512,
/// AVX-512 BF16, as far as this processor runs them) against Swift's own `Float16` conversion and
/// the bfloat16 rule worked out in `Double`, bit for bit, over a spread of every float exponent,
/// the special values, and every 16-bit pattern for widening.
@Suite("Half-precision conversions")
struct HalfConversionTests {
    static let levels: [cortado_half_level] = [
        CORTADO_HALF_BASELINE, CORTADO_HALF_AVX2_F16C, CORTADO_HALF_AVX512, CORTADO_HALF_AVX512_BF16,
    ].filter { cortado_half_kernels_for($0) != nil }

    /// Bit patterns stepping through every exponent and sign, with odd offsets (ties and near-ties
    /// in the low bits), then the special values; a count that leaves a tail after whole vectors.
    static let inputs: [Float] = {
        var values = stride(from: UInt32(0), to: UInt32.max - 40_000, by: 40_009).map { Float(bitPattern: $0 &+ ($0 % 7)) }
        values += [0, -0.0, .infinity, -.infinity, .nan, Float(bitPattern: 0x7F80_0001), 65504, 65519.99, 65520, 0x1p-24,
                   0x1p-25, 0x1.8p-25, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
                   Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), Float(bitPattern: 0x7F7F_FFFF)]
        return values
    }()

    @Test("the processor's level is found and the portable level is always there")
    func levelsExist() {
        #expect(cortado_half_kernels_for(CORTADO_HALF_BASELINE) != nil)
        #expect(cortado_half_kernels_for(cortado_half_supported_level()) != nil)
    }

    @Test("float32 → float16 rounds to nearest even exactly as Swift's Float16", arguments: levels)
    func narrowHalf(level: cortado_half_level) throws {
        let k = try #require(cortado_half_kernels_for(level)).pointee
        var bits = [UInt16](repeating: 0, count: Self.inputs.count)
        Self.inputs.withUnsafeBufferPointer { x in bits.withUnsafeMutableBufferPointer { k.f32_to_f16(x.baseAddress!, $0.baseAddress!, x.count) } }
        let wrong = zip(Self.inputs, bits).filter { x, h in
            let reference = Float16(x)
            return reference.isNaN ? !Float16(bitPattern: h).isNaN : reference.bitPattern != h
        }
        #expect(wrong.isEmpty, "level \(level.rawValue): \(wrong.prefix(4).map { "\($0.0) → \(String($0.1, radix: 16))" })")
    }

    @Test("float32 → bfloat16 rounds to nearest even, flushing subnormals, as the reference rule", arguments: levels)
    func narrowBFloat(level: cortado_half_level) throws {
        let k = try #require(cortado_half_kernels_for(level)).pointee
        var bits = [UInt16](repeating: 0, count: Self.inputs.count)
        Self.inputs.withUnsafeBufferPointer { x in bits.withUnsafeMutableBufferPointer { k.f32_to_bf16(x.baseAddress!, $0.baseAddress!, x.count) } }
        let wrong = zip(Self.inputs, bits).filter { x, h in
            let value = Double(Float(bitPattern: UInt32(h) << 16)), reference = DTypeReference.bfloat16(x)
            return reference.isNaN ? !value.isNaN : (value != reference || value.sign != reference.sign)
        }
        #expect(wrong.isEmpty, "level \(level.rawValue): \(wrong.prefix(4).map { "\($0.0) → \(String($0.1, radix: 16))" })")
        // The Swift type follows the same rule.
        #expect(Self.inputs.allSatisfy { x in
            let r = DTypeReference.bfloat16(x), v = Double(BFloat16(x).float)
            return r.isNaN ? v.isNaN : (r == v && r.sign == v.sign)
        })
    }

    @Test("widening every float16 and bfloat16 pattern is exact", arguments: levels)
    func widen(level: cortado_half_level) throws {
        let k = try #require(cortado_half_kernels_for(level)).pointee
        let patterns = (0...UInt16.max).map { $0 }
        var halves = [Float](repeating: 0, count: patterns.count), brains = halves
        patterns.withUnsafeBufferPointer { x in
            halves.withUnsafeMutableBufferPointer { k.f16_to_f32(x.baseAddress!, $0.baseAddress!, x.count) }
            brains.withUnsafeMutableBufferPointer { k.bf16_to_f32(x.baseAddress!, $0.baseAddress!, x.count) }
        }
        #expect(zip(patterns, halves).allSatisfy { h, f in
            let reference = Float(Float16(bitPattern: h))
            return reference.isNaN ? f.isNaN : reference.bitPattern == f.bitPattern
        }, "level \(level.rawValue) float16")
        #expect(zip(patterns, brains).allSatisfy { h, f in
            let reference = Float(bitPattern: UInt32(h) << 16)
            return reference.isNaN ? f.isNaN : reference.bitPattern == f.bitPattern
        }, "level \(level.rawValue) bfloat16")
    }
}
