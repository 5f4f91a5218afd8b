import CVectorMath
import Cortado
import Testing

/// The 2×2 max pool over 16-bit planes against the float32 pool of the widened planes, rounded
/// back: the same bits and indices at every level, for both 16-bit types, with random patterns
/// (NaNs of either sign, signalling ones, subnormals, infinities, ±0) among small values that tie.
@Suite("CVectorMath 16-bit max pool")
struct MaxPool16Tests {
    static let types: [(name: String, bfloat16: Int32)] = [("bfloat16", 1), ("float16", 0)]

    /// `count` 16-bit patterns: every third one random, the rest small values of `type` (ties),
    /// and the special values at fixed places.
    static func patterns(_ count: Int, bfloat16: Int32, seed: UInt32) -> [UInt16] {
        var state = seed
        let small: [UInt16] = bfloat16 != 0 ? [0xC000, 0xBF80, 0x0000, 0x3F80, 0x4000] : [0xC000, 0xBC00, 0x0000, 0x3C00, 0x4000]
        var bits = (0..<count).map { i -> UInt16 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return i % 3 == 0 ? UInt16(truncatingIfNeeded: state >> 16) : small[Int(state >> 24) % small.count]
        }
        let specials: [UInt16] = bfloat16 != 0
            ? [0x7F81, 0xFFC1, 0x0001, 0x8003, 0x8000, 0x7F80, 0xFF80]
            : [0x7C01, 0xFE01, 0x0001, 0x8003, 0x8000, 0x7C00, 0xFC00]
        for (i, special) in specials.enumerated() { bits[(17 * i + 5) % count] = special }
        return bits
    }

    static func widen(_ bits: [UInt16], bfloat16: Int32) -> [Float] {
        var out = [Float](repeating: 0, count: bits.count)
        if bfloat16 != 0 { cortado_bf16_to_f32(bits, &out, bits.count) } else { cortado_f16_to_f32(bits, &out, bits.count) }
        return out
    }

    static func narrow(_ values: [Float], bfloat16: Int32) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: values.count)
        if bfloat16 != 0 { cortado_f32_to_bf16(values, &out, values.count) } else { cortado_f32_to_f16(values, &out, values.count) }
        return out
    }

    @Test("forward and backward give the float32 pool's bits and indices", arguments: VectorMathTests.levels)
    func matchesFloatPool(level: cortado_vm_level) throws {
        let k = try #require(cortado_vm_kernels_for(level)).pointee
        let (forward16, backward16) = (try #require(k.max_pool_2x2_16), try #require(k.max_pool_2x2_backward_16))
        // An odd row and column, rows of 19 outputs (a partial vector) and of 35 (two and a tail).
        for (planes, height, width) in [(3, 27, 39), (2, 9, 70)] {
            let (outHeight, outWidth) = (height / 2, width / 2)
            for type in Self.types {
                let x = Self.patterns(planes * height * width, bfloat16: type.bfloat16, seed: 7)
                var y = [Float](repeating: 0, count: planes * outHeight * outWidth)
                var indices = [Int32](repeating: -1, count: y.count)
                k.max_pool_2x2(Self.widen(x, bfloat16: type.bfloat16), &y, &indices, planes, height, width, outHeight, outWidth)
                var y16 = [UInt16](repeating: 0xAAAA, count: y.count)
                var indices16 = [Int32](repeating: -1, count: y.count)
                forward16(x, &y16, &indices16, type.bfloat16, planes, height, width, outHeight, outWidth)
                #expect(indices16 == indices, "level \(level.rawValue), \(type.name), \(height) × \(width)")
                #expect(y16 == Self.narrow(y, bfloat16: type.bfloat16), "level \(level.rawValue), \(type.name), \(height) × \(width)")

                let dy = Self.patterns(y.count, bfloat16: type.bfloat16, seed: 11)
                var dx = [Float](repeating: 0, count: x.count)
                k.max_pool_2x2_backward(Self.widen(dy, bfloat16: type.bfloat16), indices, &dx, planes, height, width,
                                        outHeight, outWidth)
                var dx16 = [UInt16](repeating: 0xAAAA, count: x.count)  // every element must be written
                backward16(dy, indices, &dx16, type.bfloat16, planes, height, width, outHeight, outWidth)
                #expect(dx16 == Self.narrow(dx, bfloat16: type.bfloat16), "backward, level \(level.rawValue), \(type.name)")
            }
        }
    }
}
