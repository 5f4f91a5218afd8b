import Cortado

/// The deterministic inputs of the cross-backend table: the same values on every backend and in
/// every run, from a fixed linear congruential sequence (independent of Cortado's random generator).
public enum CheckInputs {
    /// `count` values in `[low, high)` from the sequence started at `seed`.
    public static func values(_ count: Int, seed: UInt64 = 1, low: Float = -1, high: Float = 1) -> [Float] {
        var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let unit = Float(state >> 40) / Float(1 << 24)
            return low + (high - low) * unit
        }
    }

    /// `values` rounded to the nearest value of `dtype` (unchanged for float32), on the CPU backend.
    public static func rounded(_ values: [Float], to dtype: DType) throws -> [Float] {
        guard dtype != .float32 else { return values }
        return try Tensor(values, dtype: dtype, device: .cpu).toArray()
    }
}
