/// The element type of a tensor's storage.
///
/// Cortado computes in `float32`; `int32` holds indices (class labels, `argmax` results, max-pool
/// positions). Every element type is four bytes wide, so copies and views are type-agnostic.
public enum DType: String, Sendable, Hashable, CustomStringConvertible {
    /// IEEE 754 single precision.
    case float32
    /// Signed 32-bit integer.
    case int32

    /// Bytes per element.
    public var byteSize: Int { 4 }

    /// The name used in messages (`float32`, `int32`).
    public var description: String { rawValue }
}
