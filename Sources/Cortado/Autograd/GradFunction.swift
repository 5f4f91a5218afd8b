/// The record an operation leaves on its output: its inputs and how to turn the output's gradient
/// into theirs.
package final class GradFunction {
    /// The operation's name, for messages.
    let name: String
    /// The inputs, in the order `backward` returns their gradients.
    let inputs: [Tensor]
    /// Maps the output gradient to one gradient per input (`nil` where an input needs none).
    let backward: (Tensor) throws -> [Tensor?]
    /// While operations are profiled: the layer whose forward pass made the node, so its backward
    /// operations are grouped under it too.
    let layer: String?

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor) throws -> [Tensor?]) {
        self.name = name
        layer = OperationProfiling.recordsOperations ? Profiler.current?.currentLayer() : nil
        self.inputs = inputs
        self.backward = backward
    }
}

extension Tensor {
    /// Records how `self` (the output of `name`) was computed from `inputs`, when gradients are
    /// enabled and some input requires them. `backward` runs with gradient recording off; it must
    /// not capture `self` (use ``detached()``), which would keep the graph alive in a cycle.
    @discardableResult
    package func recordingGradient(
        _ name: String, _ inputs: [Tensor], _ backward: @escaping (Tensor) throws -> [Tensor?]
    ) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: \.requiresGrad) else { return self }
        gradFunction = GradFunction(name: name, inputs: inputs, backward: backward)
        requiresGrad = true
        return self
    }
}
