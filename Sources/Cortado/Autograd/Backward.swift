extension Tensor {
    /// Computes the gradient of this tensor with respect to every leaf that requires gradients,
    /// adding it to the leaf's ``grad``.
    ///
    /// - Parameters:
    ///   - gradient: the gradient of some scalar with respect to this tensor; omit it for a
    ///     one-element tensor (the gradient is then 1).
    ///   - retainGraph: keep the graph for another backward pass through it. By default (as
    ///     PyTorch's `retain_graph=False`) each step's record and the activations it saved are
    ///     released as soon as the step has run, so memory falls during the pass instead of
    ///     peaking at its end; a second pass through a released graph throws.
    ///   - leafGradientReady: called with each leaf as soon as its gradient for this pass is
    ///     complete (no later step of the pass adds to it), while the rest of the pass still runs:
    ///     data-parallel training starts reducing gradients there.
    /// - Note: Every backward step runs on the device of its forward step.
    public func backward(
        gradient: Tensor? = nil, retainGraph: Bool = false, leafGradientReady: ((Tensor) throws -> Void)? = nil
    ) throws {
        guard requiresGrad else {
            throw CortadoError.invalidArgument("backward(): the tensor does not require gradients")
        }
        let seed: Tensor
        if let gradient {
            guard gradient.shape == shape else {
                throw CortadoError.shapeMismatch("backward(): gradient \(gradient.shape) for a tensor of shape \(shape)")
            }
            guard gradient.dtype == dtype else {
                throw CortadoError.dtypeMismatch(op: "backward()", dtypes: [dtype, gradient.dtype])
            }
            try checkSameDevice("backward", gradient)
            seed = gradient
        } else {
            guard count == 1 else {
                throw CortadoError.invalidArgument(
                    "backward() without a gradient needs a one-element tensor, not shape \(shape)")
            }
            seed = try Tensor.full(shape, value: 1, dtype: dtype, device: device)
        }

        guard let root = gradFunction else {
            // A leaf: its gradient is the seed.
            grad = try grad.map { try $0 + seed } ?? seed
            try leafGradientReady?(self)
            return
        }
        var pending: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
        var order: [GraphNode?] = try Self.topologicalOrder(from: root)
        try withNoGrad {
            for index in order.indices.reversed() {
                guard let node = order[index] else { continue }
                order[index] = nil  // with its consumers run, nothing of the pass needs it any more
                guard let gradient = pending.removeValue(forKey: node.id) else { continue }
                switch node {
                case let .leaf(leaf):
                    leaf.grad = try leaf.grad.map { try $0 + gradient } ?? gradient
                    try leafGradientReady?(leaf)
                case let .function(function):
                    guard let backward = function.backward else { continue }  // released by the visit's check
                    let inputGradients = try profiledLayer(function.layer) { try backward(gradient) }
                    let edges = function.inputs
                    if !retainGraph { function.release() }
                    for (edge, inputGradient) in zip(edges, inputGradients) {
                        guard let target = edge.node, let inputGradient else { continue }
                        precondition(inputGradient.shape == edge.shape,
                                     "\(function.name) backward produced \(inputGradient.shape) for \(edge.shape)")
                        let key = target.id
                        pending[key] = try pending[key].map { try $0 + inputGradient } ?? inputGradient
                    }
                }
            }
        }
    }

    /// The nodes of the graph below `root` that take gradients, each after all its inputs.
    /// - Throws: when the graph holds a record that an earlier pass released.
    private static func topologicalOrder(from root: GradFunction) throws -> [GraphNode?] {
        var order: [GraphNode?] = []
        var visited: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
        var stack: [(node: GraphNode, nextInput: Int)] = [(.function(root), 0)]
        while let (node, next) = stack.last {
            var edges: [GradientEdge] = []
            if case let .function(function) = node {
                if function.isReleased {
                    throw CortadoError.invalidArgument(
                        "backward(): the graph was already released by an earlier backward pass through it; "
                            + "pass retainGraph: true to the first pass to run another")
                }
                edges = function.inputs
            }
            if next < edges.count {
                stack[stack.count - 1].nextInput += 1
                if let input = edges[next].node, visited.insert(input.id).inserted {
                    stack.append((input, 0))
                }
            } else {
                order.append(node)
                stack.removeLast()
            }
        }
        return order
    }
}
