/// The element type of a tensor's storage.
///
/// Every buffer, strided view and matrix operand carries its element type; offsets and counts are
/// in elements of that type. Floating-point types compute in `float32` (half types are loaded,
/// widened, computed and rounded back on store), integer types hold indices, labels and quantised
/// values. Which operations a device runs in which type is the backend's to say
/// (``Backend/supports(_:_:)``); any other pairing is an error naming the op, the type and the device.
public enum DType: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// IEEE 754 single precision (the default).
    case float32
    /// IEEE 754 half precision (5 exponent bits, 10 mantissa bits).
    case float16
    /// bfloat16: the upper 16 bits of a `float32` (8 exponent bits, 7 mantissa bits).
    case bfloat16
    /// Signed 8-bit integer.
    case int8
    /// Unsigned 8-bit integer.
    case uint8
    /// Signed 32-bit integer (indices, class labels, `argmax` results).
    case int32
    /// Signed 64-bit integer (token positions in published checkpoints).
    case int64

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .int8, .uint8: return 1
        case .float16, .bfloat16: return 2
        case .float32, .int32: return 4
        case .int64: return 8
        }
    }

    /// Whether the type holds real numbers (`float32`, `float16`, `bfloat16`).
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16: return true
        case .int8, .uint8, .int32, .int64: return false
        }
    }

    /// The 16-bit floating-point types, stored in two bytes and computed in `float32`.
    public var isHalf: Bool { self == .float16 || self == .bfloat16 }

    /// The name used in messages (`float32`, `bfloat16`, …).
    public var description: String { rawValue }

    /// The bit pattern of `value` converted to this type (low `byteSize` bytes, little-endian as
    /// stored): what a fill writes into every element. Conversions follow ``Tensor/to(dtype:)``:
    /// round to nearest even for the float types; toward zero, saturating, NaN as 0 for integers.
    public func bitPattern(of value: Double) -> UInt64 {
        switch self {
        case .float32: return UInt64(Float(value).bitPattern)
        case .float16: return UInt64(HalfConversion.halfBits(Float(value)))
        case .bfloat16: return UInt64(BFloat16(Float(value)).bitPattern)
        case .int8: return UInt64(UInt8(bitPattern: Int8(saturating: value)))
        case .uint8: return UInt64(UInt8(saturating: value))
        case .int32: return UInt64(UInt32(bitPattern: Int32(saturating: value)))
        case .int64: return UInt64(bitPattern: Int64(saturating: value))
        }
    }
}

extension FixedWidthInteger {
    /// `value` rounded toward zero and clamped to the type's range; NaN becomes 0 (OpenCL's
    /// `convert_<type>_sat_rtz`).
    package init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value <= Double(Self.min) {
            self = Self.min
        } else if value >= Double(Self.max) {
            self = Self.max
        } else {
            self = Self(value.rounded(.towardZero))
        }
    }
}
