import ArgumentParser
import CortadoTraining

/// `--precision` / `--dtype` values: `fp32`, `bf16`, `fp16`.
extension Precision: ExpressibleByArgument {
    /// The values a user may type.
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

/// `--save-dtype` values: `float32`, `bfloat16`, `float16` (the floating-point element types).
extension DType: ExpressibleByArgument {
    /// The values a user may type.
    public static var allValueStrings: [String] { allCases.filter(\.isFloatingPoint).map(\.rawValue) }
}
