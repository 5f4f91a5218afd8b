/// The record an operation leaves on its output: where its inputs' gradients go and how to turn
/// the output's gradient into theirs.
///
/// The record holds its inputs' records (or, for leaves, the leaves), not the input tensors: an
/// activation stays alive only while something holds it, such as the next layer or a backward
/// closure that saved it, so a tensor that no backward step needs is freed during the forward
/// pass (as PyTorch's graph keeps only the tensors an operation saves).
package final class GradFunction {
    /// The operation's name, for messages.
    let name: String
    /// One edge per input, in the order `backward` returns their gradients (empty once released).
    private(set) var inputs: [GradientEdge]
    /// Maps the output gradient to one gradient per input (`nil` where an input needs none); `nil`
    /// once a backward pass has released the record.
    private(set) var backward: ((Tensor) throws -> [Tensor?])?
    /// While operations are profiled: the layer whose forward pass made the node, so its backward
    /// operations are grouped under it too.
    let layer: String?

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor) throws -> [Tensor?]) {
        self.name = name
        layer = OperationProfiling.recordsOperations ? Profiler.current?.currentLayer() : nil
        self.inputs = inputs.map(GradientEdge.init)
        self.backward = backward
    }

    /// Whether a backward pass released the record (see `backward(retainGraph:)`).
    var isReleased: Bool { backward == nil }

    /// Frees the closure (with the activations it saved) and the edges.
    func release() {
        backward = nil
        inputs = []
    }
}

/// An input of a recorded operation as the backward pass sees it.
struct GradientEdge {
    /// The input's shape, which its gradient must have.
    let shape: [Int]
    /// Where the input's gradient goes: the operation that computed it, or the leaf itself; `nil`
    /// when the input takes no gradient.
    let node: GraphNode?

    init(_ input: Tensor) {
        shape = input.shape
        guard input.requiresGrad else {
            node = nil
            return
        }
        node = input.gradFunction.map(GraphNode.function) ?? .leaf(input)
    }
}

/// A node of the backward graph: an operation's record, or a leaf that accumulates a gradient.
enum GraphNode {
    case function(GradFunction)
    case leaf(Tensor)

    /// The node's identity, for pending gradients and the visit.
    var id: ObjectIdentifier {
        switch self {
        case let .function(function): ObjectIdentifier(function)
        case let .leaf(tensor): ObjectIdentifier(tensor)
        }
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
