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

        var pending: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        var order: [Tensor?] = try topologicalOrder()
        try withNoGrad {
            for index in order.indices.reversed() {
                guard let tensor = order[index] else { continue }
                order[index] = nil  // with its consumers run, nothing of the pass needs it any more
                guard let gradient = pending.removeValue(forKey: ObjectIdentifier(tensor)) else { continue }
                guard let function = tensor.gradFunction else {
                    if tensor.requiresGrad {
                        tensor.grad = try tensor.grad.map { try $0 + gradient } ?? gradient
                        try leafGradientReady?(tensor)
                    }
                    continue
                }
                let inputGradients = try profiledLayer(function.layer) { try function.backward(gradient) }
                if !retainGraph {
                    tensor.gradFunction = nil
                    tensor.graphReleased = true
                }
                for (input, inputGradient) in zip(function.inputs, inputGradients) {
                    guard input.requiresGrad, let inputGradient else { continue }
                    precondition(inputGradient.shape == input.shape,
                                 "\(function.name) backward produced \(inputGradient.shape) for \(input.shape)")
                    let key = ObjectIdentifier(input)
                    pending[key] = try pending[key].map { try $0 + inputGradient } ?? inputGradient
                }
            }
        }
    }

    /// Tensors of the graph that require gradients, each after all its inputs.
    /// - Throws: when the graph holds a tensor whose record an earlier pass released.
    private func topologicalOrder() throws -> [Tensor] {
        var order: [Tensor] = []
        var visited: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
        var stack: [(tensor: Tensor, nextInput: Int)] = [(self, 0)]
        while let (tensor, next) = stack.last {
            if tensor.graphReleased {
                throw CortadoError.invalidArgument(
                    "backward(): the graph was already released by an earlier backward pass through it; "
                        + "pass retainGraph: true to the first pass to run another")
            }
            let inputs = tensor.gradFunction?.inputs ?? []
            if next < inputs.count {
                stack[stack.count - 1].nextInput += 1
                let input = inputs[next]
                if input.requiresGrad, visited.insert(ObjectIdentifier(input)).inserted {
                    stack.append((input, 0))
                }
            } else {
                order.append(tensor)
                stack.removeLast()
            }
        }
        return order
    }
}
