import Cortado

/// An element type as a safetensors header names it (`"dtype": "F32"`).
///
/// Cortado writes `F32` and `I32`; the reader knows every type of the reference implementation so
/// that it can check other programs' files and convert the common ones (see ``SafeTensorsFile``).
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

    /// The safetensors type that stores a Cortado element type exactly (`float32` → `F32`, `int32` → `I32`).
    public init(_ dtype: DType) {
        switch dtype {
        case .float32: self = .float32
        case .int32: self = .int32
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

    /// The Cortado element type that reading converts this type to: `float32` for `F16`, `BF16`,
    /// `F32` and `F64`; `int32` for the integer types and `BOOL`; `nil` for the 8-bit floats.
    public var cortadoDType: DType? {
        switch self {
        case .float16, .bfloat16, .float32, .float64: return .float32
        case .bool, .uint8, .int8, .int16, .uint16, .int32, .uint32, .int64, .uint64: return .int32
        case .float8E5M2, .float8E4M3: return nil
        }
    }

    /// The name in the header, e.g. `F32`.
    public var description: String { rawValue }
}
