import Foundation

/// Updates a model's parameters from their gradients, one fused kernel per parameter.
///
/// State (momentum, moments) lives on each parameter's device and is created at the first step.
public protocol Optimizer: AnyObject {
    /// The short name stored in checkpoints (`sgd`, `adam`, …).
    var name: String { get }
    /// The parameters updated, by dotted name.
    var parameters: [(name: String, parameter: Parameter)] { get }
    /// The learning rate of the next step (a schedule may change it between steps).
    var learningRate: Float { get set }
    /// Steps taken so far.
    var stepCount: Int { get }
    /// Hyperparameters other than the learning rate, for checkpoints and logs.
    var hyperparameters: [String: Float] { get }
    /// Updates every parameter that has a gradient, then counts the step.
    func step() throws
    /// State tensors by name (`<slot>.<parameter>`), for checkpoints.
    func stateTensors() -> [(name: String, tensor: Tensor)]
    /// Restores state saved by ``stateTensors()`` and the step count.
    func loadState(_ tensors: [String: Tensor], stepCount: Int) throws
}

extension Optimizer {
    /// Clears the gradients of the optimized parameters.
    public func zeroGrad() {
        for (_, parameter) in parameters { parameter.zeroGrad() }
    }
}

/// Per-parameter state tensors ("slots"), created as zeros on the parameter's device on first use.
package final class OptimizerSlots {
    let names: [String]
    private var slots: [[Tensor]?]

    /// State for `parameterCount` parameters with one tensor per slot name.
    package init(names: [String], parameterCount: Int) {
        self.names = names
        self.slots = Array(repeating: nil, count: parameterCount)
    }

    /// The slots of parameter `index`, created or moved to match `like`.
    package func slots(_ index: Int, like parameter: Tensor) throws -> [Tensor] {
        if let existing = slots[index], existing.first?.device == parameter.device { return existing }
        let created = try slots[index].map { try $0.map { try $0.to(parameter.device).dense() } }
            ?? names.map { _ in try Tensor.zeros(parameter.shape, device: parameter.device) }
        slots[index] = created
        return created
    }

    /// One fused update of every parameter that has a gradient, with its slots: the loop each
    /// optimizer's `step()` shares, so an optimizer only says which rule (MLX-swift's
    /// `applySingle`).
    package func apply(_ rule: UpdateRule, to parameters: [(name: String, parameter: Parameter)]) throws {
        for (index, (_, parameter)) in parameters.enumerated() {
            guard let gradient = parameter.gradient else { continue }
            try parameter.value.applyUpdate(rule, gradient: gradient, state: slots(index, like: parameter.value))
        }
    }

    /// Named state tensors: `<slot>.<parameter name>`.
    package func stateTensors(_ parameters: [(name: String, parameter: Parameter)]) -> [(name: String, tensor: Tensor)] {
        zip(parameters, slots).flatMap { entry, slots in
            zip(names, slots ?? []).map { ("\($0).\(entry.name)", $1) }
        }
    }

    /// Restores named state; every slot of every parameter must be present with the right shape.
    package func load(_ tensors: [String: Tensor], _ parameters: [(name: String, parameter: Parameter)]) throws {
        var restored: [[Tensor]?] = []
        for (name, parameter) in parameters {
            let shape = parameter.value.shape
            restored.append(try names.map { slot in
                guard let tensor = tensors["\(slot).\(name)"] else {
                    throw CortadoError.shapeMismatch("optimizer state '\(slot).\(name)' is missing")
                }
                guard tensor.shape == shape else {
                    throw CortadoError.shapeMismatch("optimizer state '\(slot).\(name)' has shape \(tensor.shape), expected \(shape)")
                }
                return try tensor.to(parameter.value.device).copied().detached()
            })
        }
        slots = restored
    }
}

/// Checks a hyperparameter and throws a message naming it.
func requireHyperparameter(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    guard condition else { throw CortadoError.invalidArgument(message()) }
}
