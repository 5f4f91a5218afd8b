import Cortado
import Foundation

/// Element-type rules written out independently of the library: how a value is stored in each
/// type, and how stored bytes decode, for checking conversions, creation and readback.
enum DTypeReference {
    /// The bfloat16 nearest to `x` (ties to even) worked out in `Double` arithmetic; zero and
    /// subnormal floats give a zero of their sign, as `vcvtneps2bf16` does.
    static func bfloat16(_ x: Float) -> Double {
        if x.isNaN { return .nan }
        if x.isInfinite || x == 0 || x.isSubnormal { return x.isInfinite ? Double(x) : (x.sign == .minus ? -0.0 : 0.0) }
        let magnitude = Double(x.magnitude)
        let ulp = pow(2.0, floor(log2(magnitude)) - 7)
        let rounded = (magnitude / ulp).rounded(.toNearestOrEven) * ulp
        let value = rounded >= 0x1p128 ? Double.infinity : rounded
        return x.sign == .minus ? -value : value
    }

    /// What storing the (exactly representable in `source`) value `v` into `target` gives.
    static func convert(_ v: Double, from source: DType, to target: DType) -> Double {
        // Integers reach a float type through float32 (as both backends do); integers between
        // integer types are clamped; floats reach integers toward zero, clamped, NaN as 0.
        let viaFloat = source.isFloatingPoint ? Float(v) : Float(Int64(v))
        switch target {
        case .float32: return Double(viaFloat)
        case .float16: return Double(Float(Float16(viaFloat)))
        case .bfloat16: return bfloat16(viaFloat)
        case .int8, .uint8, .int32, .int64:
            let (low, high) = range(target)
            if v.isNaN { return 0 }
            let truncated = v.rounded(.towardZero)
            if truncated <= low { return low }
            if truncated >= high { return high }
            return truncated + 0  // integers have no −0
        }
    }

    /// The smallest and largest value of an integer type (as doubles; int64's top is 2⁶³, which
    /// saturates to `Int64.max` when stored).
    static func range(_ dtype: DType) -> (Double, Double) {
        switch dtype {
        case .int8: return (-128, 127)
        case .uint8: return (0, 255)
        case .int32: return (-2_147_483_648, 2_147_483_647)
        default: return (-0x1p63, 0x1p63)
        }
    }

    /// Decodes stored little-endian bytes of `dtype` into values.
    static func decode(_ bytes: [UInt8], as dtype: DType) -> [Double] {
        let width = dtype.byteSize
        return stride(from: 0, to: bytes.count, by: width).map { start in
            var bits: UInt64 = 0
            for k in 0..<width { bits |= UInt64(bytes[start + k]) << (8 * UInt64(k)) }
            switch dtype {
            case .float32: return Double(Float(bitPattern: UInt32(bits)))
            case .float16: return Double(Float(Float16(bitPattern: UInt16(bits))))
            case .bfloat16: return Double(Float(bitPattern: UInt32(bits) << 16))
            case .int8: return Double(Int8(bitPattern: UInt8(bits)))
            case .uint8: return Double(UInt8(bits))
            case .int32: return Double(Int32(bitPattern: UInt32(bits)))
            case .int64: return Double(Int64(bitPattern: bits))
            }
        }
    }

    /// Little-endian bytes of `values` stored exactly in `dtype` (each must be representable).
    static func encode(_ values: [Double], as dtype: DType) -> [UInt8] {
        values.flatMap { v -> [UInt8] in
            let bits: UInt64
            switch dtype {
            case .float32: bits = UInt64(Float(v).bitPattern)
            case .float16: bits = UInt64(Float16(Float(v)).bitPattern)
            case .bfloat16: bits = UInt64(Float(v).bitPattern >> 16)
            case .int8: bits = UInt64(UInt8(bitPattern: Int8(v)))
            case .uint8: bits = UInt64(UInt8(v))
            case .int32: bits = UInt64(UInt32(bitPattern: Int32(v)))
            case .int64: bits = UInt64(bitPattern: v >= 0x1p63 ? Int64.max : Int64(v))
            }
            return (0..<dtype.byteSize).map { UInt8(truncatingIfNeeded: bits >> (8 * UInt64($0))) }
        }
    }

    /// Values every type can hold exactly, plus the awkward ones a type of `dtype` can hold:
    /// extremes of the integer types, and for floats fractions, overflow, NaN and infinities.
    static func samples(for dtype: DType) -> [Double] {
        switch dtype {
        case .int8: return [0, 1, -1, 127, -128, 100, -77]
        case .uint8: return [0, 1, 255, 128, 77, 200, 3]
        case .int32: return [0, -1, 300, -129, 70000, 2_147_483_647, -2_147_483_648, 16_777_217]
        case .int64: return [0, -1, 300, -129, 0x1p40 + 1, 0x1p62, -0x1p63, -5_000_000_000]
        case .float32:
            return [0, -0.0, 1.5, -2.75, 0.1, 1e-8, 70000, -1e10, 3e38, 1e-40, 127.9, -128.9, 255.99, 300.5, -0.99,
                    3e9, -3e9, 1e19, .nan, .infinity, -.infinity].map { Double(Float($0)) }
        case .float16:
            return [0, -0.0, 1.5, -2.75, 0.1, 0x1p-24, 65504, -1024, 127.875, -128.875, 255.875, 300.5, .nan, .infinity]
                .map { Double(Float(Float16(Float($0)))) }
        case .bfloat16: return [0, -0.0, 1.5, -2.75, 0.10009765625, 3e38.rounded(), -128.5, 1e10.rounded(), 255.5, 40000, .nan, -.infinity]
            .map { bfloat16(Float($0)) }
        }
    }
}
