import Foundation

/// The memory a run may plan to use: sizes from flags and files are turned into bytes and checked
/// against it before anything is allocated, so an absurd size is a clear error instead of a trap
/// or a process the kernel kills.
public enum MemoryBudget {
    /// The budget: this machine's physical memory (`CORTADO_MEMORY_LIMIT` bytes instead, when set
    /// to a positive number).
    public static var bytes: Double {
        if let text = ProcessEnvironment.value("CORTADO_MEMORY_LIMIT"), let limit = Double(text), limit > 0 {
            return limit
        }
        return Double(ProcessInfo.processInfo.physicalMemory)
    }

    /// Throws ``TrainingError/invalidOption(_:)`` when `bytes` (computed in floating point, so it
    /// cannot overflow) exceed the budget; `what` says what needs them, e.g. `--batch-size 1000000`.
    public static func require(_ bytes: Double, for what: String) throws {
        let (budget, bound) = limit(on: nil)
        guard bytes.isFinite, bytes <= budget else {
            throw TrainingError.invalidOption("\(what) needs about \(describe(bytes)), more than \(bound)")
        }
    }

    /// Bytes as `1.5 GiB`, also beyond `Int`'s range.
    static func describe(_ bytes: Double) -> String {
        guard bytes.isFinite else { return "an unbounded amount" }
        if bytes < Double(Int.max / 2) { return formatBytes(Int(bytes)) }
        return String(format: "%.3g bytes", bytes)
    }
}
