/// Totals of the operations in a profile, per operation and device: what `--verbose` prints at
/// the end of a `--profile` run (as `caffe time` does per layer).
public struct OperationSummary: Sendable, Equatable {
    /// The operation (`gemm`, `binary add`).
    public var operation: String
    /// The device it ran on.
    public var device: String
    /// How many times it ran.
    public var count: Int
    /// Host time in milliseconds (enqueueing, on OpenCL; the whole work, on the CPU).
    public var hostMilliseconds: Double
    /// Device time of its OpenCL kernels in milliseconds (event profiling); `nil` on the CPU.
    public var deviceMilliseconds: Double?

    /// Host milliseconds per run.
    public var meanHostMilliseconds: Double { hostMilliseconds / Double(max(count, 1)) }

    /// The totals of the `op` spans of `spans` (and of the `kernel` spans' device time, by their
    /// `op` and `device` arguments), the largest host time first.
    public static func summarize(_ spans: [Profiler.Span]) -> [OperationSummary] {
        struct Key: Hashable { var operation: String, device: String }
        var rows: [Key: OperationSummary] = [:]
        var order: [Key] = []
        for span in spans where span.category == "op" {
            let key = Key(operation: span.name, device: span.arguments["device"] ?? "?")
            if rows[key] == nil {
                rows[key] = OperationSummary(operation: key.operation, device: key.device, count: 0, hostMilliseconds: 0)
                order.append(key)
            }
            rows[key]!.count += 1
            rows[key]!.hostMilliseconds += span.duration / 1000
        }
        for span in spans where span.category == "kernel" {
            let key = Key(operation: span.arguments["op"] ?? "?", device: span.arguments["device"] ?? "?")
            guard var row = rows[key] else { continue }
            row.deviceMilliseconds = (row.deviceMilliseconds ?? 0) + span.duration / 1000
            rows[key] = row
        }
        return order.compactMap { rows[$0] }.sorted { $0.hostMilliseconds > $1.hostMilliseconds }
    }
}
