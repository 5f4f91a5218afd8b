import Foundation

extension MemoryBudget {
    /// What bounds the memory of a step on `device`: ``bytes`` and, on an OpenCL device that
    /// reports it, its global memory when that is smaller; with the words that name the bound.
    public static func limit(on device: Device?, budget: Double? = nil) -> (bytes: Double, description: String) {
        let budget = budget ?? bytes
        let fromEnvironment = ProcessEnvironment.value("CORTADO_MEMORY_LIMIT").flatMap(Double.init).map { $0 > 0 } ?? false
        var limit = (budget, fromEnvironment ? "the memory budget of \(describe(budget)) (CORTADO_MEMORY_LIMIT)"
                                             : "the \(describe(budget)) of memory this machine has")
        if let device, device.kind == .opencl, let info = try? device.info, info.globalMemoryBytes > 0,
           Double(info.globalMemoryBytes) < limit.0 {
            limit = (Double(info.globalMemoryBytes), "the \(describe(Double(info.globalMemoryBytes))) of global memory of \(device.id)")
        }
        return limit
    }

    /// Throws ``TrainingError/invalidOption(_:)`` naming `flag` when `step` over the batch the
    /// loader will form (`batchSize`, or all `samples` when fewer) exceeds ``limit(on:budget:)``:
    /// the message gives the estimate, the bound and the largest batch size that fits.
    /// - Parameters:
    ///   - what: the step, e.g. `a training step of cnn`.
    ///   - budget: the budget to check against (``bytes`` when `nil`).
    public static func requireBatch(
        _ step: StepMemory, batchSize: Int, samples: Int, flag: String = "--batch-size", what: String, device: Device?,
        budget: Double? = nil
    ) throws {
        let batch = min(batchSize, max(samples, 1))
        let needed = step.bytes(batch: batch)
        let (limit, bound) = Self.limit(on: device, budget: budget)
        if needed.isFinite && needed <= limit { return }
        let samplesNote = batch < batchSize ? " (\(batch) samples, all there are)" : ""
        let fitting = step.largestBatch(within: limit)
        let advice = fitting >= 1
            ? "use \(flag) \(fitting) or less"
            : "not even \(flag) 1 fits: the model and data alone need about \(describe(step.fixedBytes))"
        throw TrainingError.invalidOption(
            "\(flag) \(batchSize)\(samplesNote) needs about \(describe(needed)) for \(what), more than \(bound); \(advice)")
    }
}
