extension Tensor {
    /// Groups sorted, distinct axes into runs of neighbouring axes (each reduced by one kernel).
    private func axisRuns(_ axes: [Int]?, _ op: String) throws -> (axes: [Int], runs: [ClosedRange<Int>]) {
        let resolved = try Set((axes ?? Array(0..<rank)).map { try axis($0, op) }).sorted()
        var runs: [ClosedRange<Int>] = []
        for a in resolved {
            if let last = runs.last, last.upperBound == a - 1 {
                runs[runs.count - 1] = last.lowerBound...a
            } else {
                runs.append(a...a)
            }
        }
        return (resolved, runs)
    }

    /// Reduces along `axes` with one kernel per run of neighbouring axes (no gradient recorded).
    private func reducing(_ op: ReduceOp, axes: [Int]?, keepingDims: Bool, mean: Bool = false) throws -> Tensor {
        try requireSupport(.reduce, op.rawValue)
        let (resolved, runs) = try axisRuns(axes, op.rawValue)
        var current = try dense()
        var currentShape = shape
        // From the last run to the first, so earlier axis numbers stay valid.
        for run in runs.reversed() {
            let outer = currentShape[..<run.lowerBound].reduce(1, *)
            let n = currentShape[run].reduce(1, *)
            let inner = currentShape[(run.upperBound + 1)...].reduce(1, *)
            var nextShape = currentShape
            for a in run { nextShape[a] = 1 }
            // Accumulated in float32; only the final result is rounded to a 16-bit type.
            let out = try Tensor.empty(nextShape, dtype: run == runs.first ? dtype : .float32, on: backend)
            if n == 0 && op == .sum {
                try backend.fill(out.buffer, offset: 0, count: out.count, value: 0)
            } else {
                guard n > 0 else {
                    throw CortadoError.invalidArgument("\(op.rawValue) over an empty axis of shape \(shape)")
                }
                try backend.reduce(op, current.buffer, offset: 0, outer: outer, n: n, inner: inner,
                                   scale: mean ? 1 / Float(n) : 1, into: out.buffer)
            }
            current = out
            currentShape = nextShape
        }
        let finalShape = keepingDims ? currentShape : shape.indices.filter { !resolved.contains($0) }.map { shape[$0] }
        return current.makeView(shape: finalShape, strides: Layout.rowMajorStrides(finalShape), offset: 0)
    }

    /// The shape with reduced axes kept as 1 (for broadcasting a reduced gradient back).
    private func keptShape(_ axes: [Int]?) throws -> [Int] {
        let resolved = try axisRuns(axes, "reduce").axes
        return shape.indices.map { resolved.contains($0) ? 1 : shape[$0] }
    }

    /// Σ over `axes` (all axes when `nil`).
    public func sum(axes: [Int]? = nil, keepingDims: Bool = false) throws -> Tensor {
        let out = try reducing(.sum, axes: axes, keepingDims: keepingDims)
        let (inputShape, kept) = (shape, try keptShape(axes))
        return out.recordingGradient("sum", [self]) { g in [try g.reshaped(kept).expanded(to: inputShape)] }
    }

    /// Mean over `axes` (all axes when `nil`).
    public func mean(axes: [Int]? = nil, keepingDims: Bool = false) throws -> Tensor {
        let out = try reducing(.sum, axes: axes, keepingDims: keepingDims, mean: true)
        let (inputShape, kept) = (shape, try keptShape(axes))
        let scale = Float(out.count) / Float(Swift.max(count, 1))
        return out.recordingGradient("mean", [self]) { g in
            [try g.applying(.mulScalar(scale)).reshaped(kept).expanded(to: inputShape)]
        }
    }

    /// Largest element over `axes` (the gradient is shared evenly among tied maxima).
    public func max(axes: [Int]? = nil, keepingDims: Bool = false) throws -> Tensor {
        try extremum(.max, axes: axes, keepingDims: keepingDims)
    }

    /// Smallest element over `axes` (the gradient is shared evenly among tied minima).
    public func min(axes: [Int]? = nil, keepingDims: Bool = false) throws -> Tensor {
        try extremum(.min, axes: axes, keepingDims: keepingDims)
    }

    private func extremum(_ op: ReduceOp, axes: [Int]?, keepingDims: Bool) throws -> Tensor {
        let out = try reducing(op, axes: axes, keepingDims: keepingDims)
        let x = detached(), y = out.detached()
        let kept = try keptShape(axes)
        let resolved = try axisRuns(axes, op.rawValue).axes
        return out.recordingGradient(op.rawValue, [self]) { g in
            let mask = try x.applying(.equal, y.reshaped(kept))
            let ties = try mask.reducing(.sum, axes: resolved, keepingDims: true)
            return [try mask.applying(.mul, g.reshaped(kept).applying(.div, ties))]
        }
    }

    /// Index of the first largest element along `axis` (over all elements, flattened, when `nil`),
    /// as `int32`.
    public func argmax(axis rawAxis: Int? = nil, keepingDims: Bool = false) throws -> Tensor {
        try requireSupport(.reduce, "argmax")
        guard let rawAxis else { return try reshaped([count]).argmax(axis: 0, keepingDims: false) }
        let a = try axis(rawAxis, "argmax")
        guard shape[a] > 0 else { throw CortadoError.invalidArgument("argmax over an empty axis of \(shape)") }
        let source = try dense()
        var outShape = shape
        outShape[a] = 1
        let out = try Tensor.empty(outShape, dtype: .int32, on: backend)
        try backend.reduce(
            .argmax, source.buffer, offset: 0, outer: shape[..<a].reduce(1, *), n: shape[a],
            inner: shape[(a + 1)...].reduce(1, *), scale: 1, into: out.buffer)
        if keepingDims { return out }
        outShape.remove(at: a)
        return out.makeView(shape: outShape, strides: Layout.rowMajorStrides(outShape), offset: 0)
    }

    /// `out[…, i, …] = self[…, index[…, i, …], …]` along `axis`, where `indices` (`int32`) has this
    /// tensor's shape without `axis` (picking, say, each row's label logit).
    public func gathered(indices: Tensor, axis rawAxis: Int) throws -> Tensor {
        try requireSupport(.gather, "gather")
        let a = try axis(rawAxis, "gather")
        try checkSameDevice("gather", indices)
        var expected = shape
        expected.remove(at: a)
        guard indices.dtype == .int32, indices.shape == expected else {
            throw CortadoError.shapeMismatch("gather along axis \(a) of \(shape) needs int32 indices of shape \(expected), not \(indices.dtype) \(indices.shape)")
        }
        let (outer, n, inner) = (shape[..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
        let source = try dense(), index = try indices.dense()
        let out = try Tensor.empty(expected, dtype: dtype, on: backend)
        try backend.gather(source.buffer, indices: index.buffer, outer: outer, n: n, inner: inner, into: out.buffer)
        let inputShape = shape
        return out.recordingGradient("gather", [self]) { g in
            let dense = try g.dense()
            let dx = try Tensor.empty(inputShape, dtype: g.dtype, on: g.backend)
            try g.backend.scatter(dense.buffer, indices: index.buffer, outer: outer, n: n, inner: inner, into: dx.buffer)
            return [dx]
        }
    }
}
