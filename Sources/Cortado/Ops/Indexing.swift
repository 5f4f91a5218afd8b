extension Tensor {
    /// Rows of this `[rows, width]` table picked by `int32` indices of any shape: the result has shape
    /// `indices.shape + [width]` (an embedding lookup). The gradient sums, deterministically, into
    /// the rows that were picked.
    public func gatheredRows(_ indices: Tensor) throws -> Tensor {
        try checkSameDevice("gatheredRows", indices)
        try requireSupport(.gatherRows, "gatheredRows")
        guard rank == 2, indices.dtype == .int32 else {
            throw CortadoError.shapeMismatch("gatheredRows needs a [rows, width] float32 table and int32 indices, not \(shape) and \(indices.dtype) \(indices.shape)")
        }
        let (rows, width, count) = (shape[0], shape[1], indices.count)
        let table = try dense(), index = try indices.dense()
        let out = try Tensor.empty(indices.shape + [width], dtype: dtype, on: backend)
        try backend.gatherRows(table.buffer, tableRows: rows, indices: index.buffer, count: count, width: width, into: out.buffer)
        return out.recordingGradient("gathered_rows", [self]) { g in
            let dy = try g.dense()
            let dtable = try Tensor.empty([rows, width], dtype: dy.dtype, on: dy.backend)
            try dy.backend.scatterAddRows(dy.buffer, indices: index.buffer, count: count, width: width, tableRows: rows, into: dtable.buffer)
            return [dtable]
        }
    }

    /// The cross-entropy of each row of these `[rows, classes]` logits against `int32` class labels
    /// `[rows]`: `logsumexp(row) − row[label]`, computed stably in one fused kernel. A label out of
    /// range gives NaN.
    public func crossEntropyPerRow(labels: Tensor) throws -> Tensor {
        try checkSameDevice("crossEntropy", labels)
        try requireSupport(.crossEntropy, "crossEntropy")
        guard rank == 2, labels.dtype == .int32, labels.shape == [shape[0]] else {
            throw CortadoError.shapeMismatch("crossEntropy needs [rows, classes] logits and int32 labels [rows], not \(shape) and \(labels.dtype) \(labels.shape)")
        }
        let (rows, classes) = (shape[0], shape[1])
        let logits = try dense(), targets = try labels.dense()
        let losses = try Tensor.empty([rows], on: backend)
        let probabilities = try Tensor.empty([rows, classes], on: backend)
        try backend.crossEntropy(logits.buffer, labels: targets.buffer, rows: rows, classes: classes,
                                 losses: losses.buffer, probabilities: probabilities.buffer)
        return losses.recordingGradient("cross_entropy", [self]) { g in
            let dloss = try g.dense()
            let dlogits = try Tensor.empty([rows, classes], on: dloss.backend)
            try dloss.backend.crossEntropyBackward(probabilities.buffer, labels: targets.buffer, dloss: dloss.buffer,
                                                   rows: rows, classes: classes, into: dlogits.buffer)
            return [dlogits]
        }
    }

    /// Applies an optimizer update to this parameter in place (no gradient recorded).
    /// - Parameters:
    ///   - gradient: the parameter's gradient (same shape and device).
    ///   - state: the rule's state tensors, each dense and of the parameter's shape.
    package func applyUpdate(_ rule: UpdateRule, gradient: Tensor, state: [Tensor]) throws {
        try checkSameDevice("optimizer update", gradient)
        try requireSupport(.update, "optimizer update", gradient)
        precondition(isContiguous && offset == 0, "parameters are dense")
        precondition(state.allSatisfy { $0.isContiguous && $0.offset == 0 && $0.count == count }, "state is dense")
        let g = try gradient.dense()
        try backend.update(rule, parameter: buffer, gradient: g.buffer, state: state.map(\.buffer), count: count)
    }

    /// Overwrites this tensor's elements with `source`'s (same shape; copied across devices if needed).
    package func assign(_ source: Tensor) throws {
        guard source.shape == shape, source.dtype == dtype else {
            throw CortadoError.shapeMismatch("cannot assign \(source.dtype) \(source.shape) to \(dtype) \(shape)")
        }
        let local = try source.to(device)
        try backend.copy(local.view, to: view)
    }
}

extension Tensor {
    /// Copies this one-element tensor into element `index` of the dense tensor `target`, on the
    /// device and without waiting (e.g. to collect per-step losses for a later single read).
    package func copyElement(to target: Tensor, at index: Int) throws {
        try checkSameDevice("copyElement", target)
        guard count == 1, target.isContiguous, index >= 0, index < target.count else {
            throw CortadoError.invalidArgument("copyElement: \(shape) into element \(index) of \(target.shape)")
        }
        try backend.copy(
            StridedView(buffer: buffer, offset: offset, shape: [1], strides: [1]),
            to: StridedView(buffer: target.buffer, offset: target.offset + index, shape: [1], strides: [1]))
    }
}

extension Tensor {
    /// Multiplies every element by `factor` in place (no gradient recorded): unscaling gradients.
    package func scaleInPlace(by factor: Float) throws {
        try requireSupport(.unary, "scale")
        try backend.unary(.mulScalar(factor), view, into: view)
    }
}
