/// Deterministic test inputs that do not depend on the library under test.
enum Fixtures {
    /// `count` values in `[low, high)` from a fixed linear congruential sequence.
    static func values(_ count: Int, seed: UInt64 = 1, low: Float = -1, high: Float = 1) -> [Float] {
        var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let unit = Float(state >> 40) / Float(1 << 24)
            return low + (high - low) * unit
        }
    }

    /// Values whose magnitude is at least `gap`, so kinks at zero (relu, abs) are not sampled.
    static func awayFromZero(_ count: Int, seed: UInt64 = 1, gap: Float = 0.1) -> [Float] {
        values(count, seed: seed).map { $0 >= 0 ? $0 + gap : $0 - gap }
    }

    /// Distinct values (no ties), shuffled deterministically: for max/argmax/pooling gradients.
    static func distinct(_ count: Int, seed: UInt64 = 1) -> [Float] {
        let order = values(count, seed: seed).enumerated().sorted { $0.element < $1.element }.map(\.offset)
        var result = [Float](repeating: 0, count: count)
        for (rank, index) in order.enumerated() { result[index] = Float(rank) * 0.1 - Float(count) * 0.05 }
        return result
    }
}
