/// The precision a model trains or runs in: `fp32`, or mixed precision with a 16-bit compute type.
///
/// In mixed precision, parameters (the master weights) and optimizer state stay `float32`; each
/// layer converts its parameters and its input to the compute type, so the forward and backward
/// passes run and store activations in 16 bits; gradients flow back through the conversions into
/// `float32` gradients of the parameters, and losses are computed in `float32`.
/// - Note: Micikevicius et al., "Mixed Precision Training", 2018.
public enum Precision: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Single precision throughout.
    case fp32
    /// bfloat16 compute: float32's range, so no loss scaling.
    case bf16
    /// IEEE half compute: needs dynamic loss scaling (``LossScaler``) to keep small gradients.
    case fp16

    /// The element type layers compute in.
    public var computeType: DType {
        switch self {
        case .fp32: return .float32
        case .bf16: return .bfloat16
        case .fp16: return .float16
        }
    }

    /// The precision whose compute type is `dtype`, if any.
    public init?(computeType dtype: DType) {
        guard let match = Precision.allCases.first(where: { $0.computeType == dtype }) else { return nil }
        self = match
    }

    /// The name on the command line (`fp32`, `bf16`, `fp16`).
    public var description: String { rawValue }
}

/// The element type layers compute in, scoped like the default device: `float32` unless set with
/// ``withComputeType(_:_:)``.
public enum ComputeType {
    @TaskLocal static var scoped: DType = .float32

    /// The compute type of the current scope.
    public static var current: DType { scoped }
}

/// Runs `body` with layers computing in `dtype` (`float32`, `bfloat16` or `float16`).
public func withComputeType<R>(_ dtype: DType, _ body: () throws -> R) rethrows -> R {
    try ComputeType.$scoped.withValue(dtype, operation: body)
}

extension Parameter {
    /// The value in the current compute type: the `float32` master value itself, or its conversion
    /// (whose gradient flows back to the master as `float32`). Integer values are returned as they are.
    public var computeValue: Tensor {
        get throws { try value.inComputeType() }
    }
}

extension Tensor {
    /// This tensor converted to the current compute type when it holds floats of another type
    /// (layers call it on their input, as PyTorch's autocast does); itself otherwise.
    public func inComputeType() throws -> Tensor {
        let target = ComputeType.current
        guard dtype.isFloatingPoint, dtype != target else { return self }
        return try to(dtype: target)
    }
}
