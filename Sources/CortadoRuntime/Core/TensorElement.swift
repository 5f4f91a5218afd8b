/// A Swift type that holds one element of a ``DType`` exactly, for creating tensors from arrays and
/// reading them back without conversion (`Tensor(elements:)`, `Tensor.elements(as:)`).
public protocol TensorElement: Sendable {
    /// The element type this Swift type stores.
    static var dtype: DType { get }
}

extension Float: TensorElement {
    /// `float32`.
    public static var dtype: DType { .float32 }
}

#if !(os(macOS) && arch(x86_64))
extension Float16: TensorElement {
    /// `float16`.
    public static var dtype: DType { .float16 }
}
#endif

extension BFloat16: TensorElement {
    /// `bfloat16`.
    public static var dtype: DType { .bfloat16 }
}

extension Int8: TensorElement {
    /// `int8`.
    public static var dtype: DType { .int8 }
}

extension UInt8: TensorElement {
    /// `uint8`.
    public static var dtype: DType { .uint8 }
}

extension Int32: TensorElement {
    /// `int32`.
    public static var dtype: DType { .int32 }
}

extension Int64: TensorElement {
    /// `int64`.
    public static var dtype: DType { .int64 }
}
