import Cortado

/// How far a result may be from the reference: `|actual − expected| ≤ atol + rtol·|expected|`.
public struct CheckTolerance: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The relative part.
    public var rtol: Float
    /// The absolute part.
    public var atol: Float

    /// A tolerance of `rtol` relative and `atol` absolute.
    public init(rtol: Float, atol: Float) {
        self.rtol = rtol
        self.atol = atol
    }

    /// Between two backends running in `dtype`. In float32 they differ only in the order of sums; in
    /// 16-bit storage both compute in float32 and round once, so they differ only where a float32
    /// result lies within float32 rounding of a half-way point (a unit in the type's last place).
    public static func betweenBackends(_ dtype: DType) -> CheckTolerance {
        switch dtype {
        case .float16: return CheckTolerance(rtol: 2e-3, atol: 1e-3)
        case .bfloat16: return CheckTolerance(rtol: 1.6e-2, atol: 8e-3)
        default: return CheckTolerance(rtol: 1e-4, atol: 1e-5)
        }
    }

    /// Between a run in `dtype` storage and a float32 run on the same (rounded) inputs: a few units
    /// in the last place of the type, for results rounded once per op.
    public static func versusFloat32(_ dtype: DType) -> CheckTolerance {
        switch dtype {
        case .float16: return CheckTolerance(rtol: 8e-3, atol: 4e-3)
        case .bfloat16: return CheckTolerance(rtol: 6e-2, atol: 3e-2)
        default: return CheckTolerance(rtol: 1e-4, atol: 1e-5)
        }
    }

    /// `rtol 0.0001, atol 1e-05`.
    public var description: String { "rtol \(rtol), atol \(atol)" }

    /// Whether `actual` is within the tolerance of `expected` (NaN matches NaN; an infinity only itself).
    public func accepts(_ actual: Float, _ expected: Float) -> Bool {
        if actual.isNaN && expected.isNaN { return true }
        if actual.isInfinite || expected.isInfinite { return actual == expected }
        return abs(actual - expected) <= atol + rtol * abs(expected)
    }
}

/// How one array of results differs from the reference under a tolerance.
public struct CheckDifference: Sendable, Equatable {
    /// The largest `|actual − expected|` over the elements (infinite where NaN, infinity or count differ).
    public var maxError: Float
    /// The elements outside the tolerance (every element when the counts differ).
    public var mismatches: Int
    /// The elements compared.
    public var count: Int
    /// Up to six of the elements outside the tolerance, as `[i] actual vs expected`.
    public var examples: [String]

    /// Compares `actual` with `expected` under `tolerance`.
    public init(_ actual: [Float], _ expected: [Float], tolerance: CheckTolerance) {
        guard actual.count == expected.count else {
            self.maxError = .infinity
            self.mismatches = max(actual.count, expected.count)
            self.count = expected.count
            self.examples = ["count \(actual.count) ≠ expected \(expected.count)"]
            return
        }
        var maxError: Float = 0
        var mismatches = 0
        var examples: [String] = []
        for index in actual.indices {
            let (a, e) = (actual[index], expected[index])
            let accepted = tolerance.accepts(a, e)
            let error = a.isNaN && e.isNaN ? 0 : (a == e ? 0 : abs(a - e))
            maxError = max(maxError, error.isNaN ? .infinity : error)
            if !accepted {
                mismatches += 1
                if examples.count < 6 { examples.append("[\(index)] \(a) vs \(e)") }
            }
        }
        self.maxError = maxError
        self.mismatches = mismatches
        self.count = actual.count
        self.examples = examples
    }

    /// Whether every element is within the tolerance.
    public var passed: Bool { mismatches == 0 }
}
