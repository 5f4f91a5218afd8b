import Foundation

/// The fixed masks of an unstructured pruning: 1 where a weight is kept, 0 where it was pruned,
/// by dotted parameter name. Re-applied after every fine-tuning step so pruned weights stay zero.
public struct PruningMasks {
    /// Mask tensors (the weights' shapes, on their device) by dotted parameter name.
    public let masks: [String: Tensor]

    /// Multiplies each masked parameter of `model` by its mask (without recording gradients).
    public func apply(to model: any Module) throws {
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter) })
        try withNoGrad {
            for (name, mask) in masks {
                guard let parameter = parameters[name] else {
                    throw CortadoError.invalidArgument("pruning mask for '\(name)': the model has no such parameter")
                }
                try parameter.replace(with: parameter.value * mask)
            }
        }
    }
}

extension Pruning {
    /// The weights unstructured pruning applies to, by dotted name: those of every ``Linear`` and
    /// ``Conv2D`` and the input and recurrent weights of every ``LSTM`` and ``GRU``. Biases,
    /// normalisation weights and embedding tables are left alone.
    public static func prunableWeights(of model: any Module) -> [String] {
        var names: [String] = []
        func visit(_ module: any Module, _ prefix: String) {
            switch module {
            case is Linear, is Conv2D: names.append(prefix + "weight")
            case is LSTM, is GRU: names += [prefix + "weight_ih", prefix + "weight_hh"]
            default: break
            }
            for (name, child) in module.children { visit(child, prefix + name + ".") }
        }
        visit(model, "")
        return names
    }

    /// Zeroes, in each of `model`'s ``prunableWeights(of:)``, the `round(sparsity · n)` entries of
    /// smallest absolute value (ties: the earlier entry), and returns the masks that keep them zero.
    /// - Throws: ``TrainingError/invalidOption(_:)`` for a sparsity outside [0, 1).
    public static func unstructured(_ model: any Module, sparsity: Double) throws -> PruningMasks {
        try PruningOptions(sparsity: sparsity).validate()
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter) })
        var masks: [String: Tensor] = [:]
        for name in prunableWeights(of: model) {
            guard let parameter = parameters[name] else { continue }
            let values = try parameter.value.to(dtype: .float32).toArray()
            let pruned = Int((sparsity * Double(values.count)).rounded())
            let order = values.indices.sorted { abs(values[$0]) != abs(values[$1]) ? abs(values[$0]) < abs(values[$1]) : $0 < $1 }
            var mask = [Float](repeating: 1, count: values.count)
            for index in order.prefix(pruned) { mask[index] = 0 }
            masks[name] = try Tensor(mask, shape: parameter.value.shape, device: parameter.value.device)
        }
        let result = PruningMasks(masks: masks)
        try result.apply(to: model)
        return result
    }
}
