import CVectorMath

/// A bfloat16 value: the upper 16 bits of a `float32` (same exponent range, 8 significant bits).
///
/// Converting from `Float` rounds to nearest even as the processor's `vcvtneps2bf16` does: a zero
/// or subnormal input gives a zero of its sign and NaN stays NaN (quiet). Widening is exact.
public struct BFloat16: Hashable, Sendable, CustomStringConvertible {
    /// The stored bits.
    public var bitPattern: UInt16

    /// The value with these bits.
    public init(bitPattern: UInt16) {
        self.bitPattern = bitPattern
    }

    /// The bfloat16 nearest to `value`.
    public init(_ value: Float) {
        let x = value.bitPattern
        let magnitude = x & 0x7FFF_FFFF
        if magnitude > 0x7F80_0000 {
            bitPattern = UInt16(truncatingIfNeeded: x >> 16) | 0x40
        } else if magnitude < 0x0080_0000 {
            bitPattern = UInt16(truncatingIfNeeded: x >> 16) & 0x8000
        } else {
            bitPattern = UInt16(truncatingIfNeeded: (x &+ 0x7FFF &+ ((x >> 16) & 1)) >> 16)
        }
    }

    /// The value as a `Float` (exact).
    public var float: Float { Float(bitPattern: UInt32(bitPattern) << 16) }

    /// The value, as `Float` prints it.
    public var description: String { float.description }
}

/// Conversions between `float32` and the 16-bit float types, one value or whole arrays at a time
/// (the arrays through CVectorMath's AVX-512 / F16C loops; see `CortadoHalf.h`).
package enum HalfConversion {
    /// The IEEE half-precision bits nearest to `value` (round to nearest even).
    package static func halfBits(_ value: Float) -> UInt16 { Float16(value).bitPattern }

    /// `count` floats narrowed into 16-bit patterns of `dtype` (`float16` or `bfloat16`).
    package static func narrow(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<UInt16>, count: Int, to dtype: DType) {
        guard count > 0 else { return }
        if dtype == .float16 {
            cortado_f32_to_f16(source, target, count)
        } else {
            cortado_f32_to_bf16(source, target, count)
        }
    }

    /// `count` 16-bit patterns of `dtype` (`float16` or `bfloat16`) widened into floats.
    package static func widen(_ source: UnsafePointer<UInt16>, into target: UnsafeMutablePointer<Float>, count: Int, from dtype: DType) {
        guard count > 0 else { return }
        if dtype == .float16 {
            cortado_f16_to_f32(source, target, count)
        } else {
            cortado_bf16_to_f32(source, target, count)
        }
    }
}
