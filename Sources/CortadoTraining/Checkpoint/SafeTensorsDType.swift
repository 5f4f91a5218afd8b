import Cortado

/// An element type as a safetensors header names it (`"dtype": "F32"`).
///
/// Cortado writes each of its element types as the safetensors type that stores it exactly (`F32`,
/// `F16`, `BF16`, `I8`, `U8`, `I32`, `I64`); the reader knows every type of the reference
/// implementation so that it can check other programs' files and convert the common ones (see
/// ``SafeTensorsFile``).
public enum SafeTensorsDType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Boolean, one byte per element.
    case bool = "BOOL"
    /// Unsigned 8-bit integer.
    case uint8 = "U8"
    /// Signed 8-bit integer.
    case int8 = "I8"
    /// 8-bit float with 5 exponent and 2 mantissa bits.
    case float8E5M2 = "F8_E5M2"
    /// 8-bit float with 4 exponent and 3 mantissa bits.
    case float8E4M3 = "F8_E4M3"
    /// Signed 16-bit integer.
    case int16 = "I16"
    /// Unsigned 16-bit integer.
    case uint16 = "U16"
    /// IEEE 754 half precision.
    case float16 = "F16"
    /// bfloat16: the upper half of an IEEE 754 single.
    case bfloat16 = "BF16"
    /// Signed 32-bit integer.
    case int32 = "I32"
    /// Unsigned 32-bit integer.
    case uint32 = "U32"
    /// IEEE 754 single precision.
    case float32 = "F32"
    /// IEEE 754 double precision.
    case float64 = "F64"
    /// Signed 64-bit integer.
    case int64 = "I64"
    /// Unsigned 64-bit integer.
    case uint64 = "U64"

    /// The safetensors type that stores a Cortado element type exactly (`float32` → `F32`,
    /// `bfloat16` → `BF16`, `int32` → `I32`, …).
    public init(_ dtype: DType) {
        switch dtype {
        case .float32: self = .float32
        case .float16: self = .float16
        case .bfloat16: self = .bfloat16
        case .int8: self = .int8
        case .uint8: self = .uint8
        case .int32: self = .int32
        case .int64: self = .int64
        }
    }

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .uint8, .int8, .float8E5M2, .float8E4M3: return 1
        case .int16, .uint16, .float16, .bfloat16: return 2
        case .int32, .uint32, .float32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// The Cortado element type that stores this type exactly, if there is one (`F32`, `F16`,
    /// `BF16`, `I8`, `U8`, `I32`, `I64`).
    public var exactDType: DType? {
        switch self {
        case .float32: return .float32
        case .float16: return .float16
        case .bfloat16: return .bfloat16
        case .int8: return .int8
        case .uint8: return .uint8
        case .int32: return .int32
        case .int64: return .int64
        default: return nil
        }
    }

    /// The Cortado element type a tensor of this type loads as: its ``exactDType``, else `float32`
    /// for `F64` and `int32` for `BOOL` and the other integer types; `nil` for the 8-bit floats.
    public var cortadoDType: DType? {
        if let exactDType { return exactDType }
        switch self {
        case .float64: return .float32
        case .bool, .int16, .uint16, .uint32, .uint64: return .int32
        default: return nil
        }
    }

    /// The name in the header, e.g. `F32`.
    public var description: String { rawValue }
}
