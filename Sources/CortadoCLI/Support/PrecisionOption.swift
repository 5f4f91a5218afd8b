import ArgumentParser
import CortadoTraining

/// `--precision` / `--dtype` values: `fp32`, `bf16`, `fp16`.
extension Precision: ExpressibleByArgument {
    /// The values a user may type.
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
