extension Tensor {
    /// The same elements in row-major order with a new shape (one extent may be −1 to infer it).
    /// A view when the tensor is contiguous, a copy otherwise.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        let resolved = try resolveShape(newShape)
        let source = isContiguous ? self : try contiguous()
        let result = source.makeView(shape: resolved, strides: Layout.rowMajorStrides(resolved), offset: source.offset)
        let inputShape = shape
        return result.recordingGradient("reshape", [source]) { g in [try g.reshaped(inputShape)] }
    }

    private func resolveShape(_ newShape: [Int]) throws -> [Int] {
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        guard inferred.count <= 1, newShape.allSatisfy({ $0 >= -1 }) else {
            throw CortadoError.invalidArgument("reshape: invalid shape \(newShape)")
        }
        var resolved = newShape
        if let axis = inferred.first {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            guard known > 0, count % known == 0 else {
                throw CortadoError.shapeMismatch("cannot reshape \(shape) (\(count) elements) to \(newShape)")
            }
            resolved[axis] = count / known
        }
        guard resolved.reduce(1, *) == count else {
            throw CortadoError.shapeMismatch("cannot reshape \(shape) (\(count) elements) to \(newShape)")
        }
        return resolved
    }

    /// A view with dimensions reordered: dimension `i` of the result is dimension `axes[i]` here.
    public func permuted(_ axes: [Int]) throws -> Tensor {
        let resolved = try axes.map { try axis($0, "permute") }
        guard resolved.count == rank, Set(resolved).count == rank else {
            throw CortadoError.invalidArgument("permute: \(axes) is not a permutation of \(rank) axes")
        }
        let result = makeView(shape: resolved.map { shape[$0] }, strides: resolved.map { strides[$0] }, offset: offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in resolved.enumerated() { inverse[a] = i }
        return result.recordingGradient("permute", [self]) { g in [try g.permuted(inverse)] }
    }

    /// A view with two dimensions swapped (the last two by default).
    public func transposed(_ first: Int = -2, _ second: Int = -1) throws -> Tensor {
        guard rank >= 2 else { throw CortadoError.invalidArgument("transpose needs at least 2 dimensions, not \(shape)") }
        var axes = Array(0..<rank)
        axes.swapAt(try axis(first, "transpose"), try axis(second, "transpose"))
        return try permuted(axes)
    }

    /// A view of `range` along `axis`, every `step`-th element.
    public func sliced(axis rawAxis: Int, _ range: Range<Int>, step: Int = 1) throws -> Tensor {
        let a = try axis(rawAxis, "slice")
        guard step > 0, range.lowerBound >= 0, range.upperBound <= shape[a] else {
            throw CortadoError.invalidArgument("slice \(range) step \(step) is out of bounds for axis \(a) of \(shape)")
        }
        var newShape = shape, newStrides = strides
        newShape[a] = (range.count + step - 1) / step
        newStrides[a] = strides[a] * step
        let result = makeView(shape: newShape, strides: newStrides, offset: offset + range.lowerBound * strides[a])
        let inputShape = shape
        return result.recordingGradient("slice", [self]) { g in
            // Scatter the gradient into the same window of a zero tensor of the input's shape.
            let full = try Tensor.zeros(inputShape, dtype: g.dtype, device: g.device)
            let fullStrides = Layout.rowMajorStrides(inputShape)
            var windowStrides = fullStrides
            windowStrides[a] *= step
            let window = StridedView(
                buffer: full.buffer, offset: range.lowerBound * fullStrides[a], shape: newShape, strides: windowStrides)
            try g.backend.copy(g.view, to: window)
            return [full]
        }
    }

    /// A view broadcast to `newShape`: new leading dimensions and dimensions of extent 1 repeat
    /// without copying.
    public func expanded(to newShape: [Int]) throws -> Tensor {
        guard newShape.count >= rank else {
            throw CortadoError.shapeMismatch("cannot expand \(shape) to fewer dimensions \(newShape)")
        }
        let lead = newShape.count - rank
        var newStrides = [Int](repeating: 0, count: newShape.count)
        for i in 0..<rank {
            if shape[i] == newShape[lead + i] {
                newStrides[lead + i] = strides[i]
            } else if shape[i] != 1 {
                throw CortadoError.shapeMismatch("cannot expand \(shape) to \(newShape)")
            }
        }
        if newShape == shape { return self }
        let result = makeView(shape: newShape, strides: newStrides, offset: offset)
        let inputShape = shape
        return result.recordingGradient("expand", [self]) { g in [try g.summed(toShape: inputShape)] }
    }

    /// A view with a new dimension of extent 1 at `axis`.
    public func unsqueezed(axis rawAxis: Int) throws -> Tensor {
        let a = rawAxis < 0 ? rawAxis + rank + 1 : rawAxis
        guard a >= 0 && a <= rank else { throw CortadoError.invalidArgument("unsqueeze: axis \(rawAxis) for \(shape)") }
        var newShape = shape
        newShape.insert(1, at: a)
        return try reshaped(newShape)
    }

    /// A view without dimensions of extent 1 (only `axis` when given).
    public func squeezed(axis rawAxis: Int? = nil) throws -> Tensor {
        if let rawAxis {
            let a = try axis(rawAxis, "squeeze")
            guard shape[a] == 1 else { return self }
            var newShape = shape
            newShape.remove(at: a)
            return try reshaped(newShape)
        }
        return try reshaped(shape.filter { $0 != 1 })
    }

    /// The tensor flattened from `startAxis` on: `[d0, …, d(start−1), product of the rest]`.
    public func flattened(from startAxis: Int = 0) throws -> Tensor {
        let a = try axis(startAxis, "flatten")
        return try reshaped(Array(shape[..<a]) + [shape[a...].reduce(1, *)])
    }

    /// A contiguous row-major copy, or `self` when already contiguous.
    public func contiguous() throws -> Tensor {
        if isContiguous { return self }
        return try copied()
    }

    /// Contiguous and starting at element 0 of its buffer (what whole-buffer kernels read).
    package func dense() throws -> Tensor {
        if isContiguous && offset == 0 { return self }
        return try copied()
    }

    /// A copy in new memory.
    public func copied() throws -> Tensor {
        let result = try Tensor.empty(shape, dtype: dtype, on: backend)
        try backend.copy(view, to: result.view)
        return result.recordingGradient("copy", [self]) { g in [g] }
    }

    /// This tensor converted to element type `target` (itself when already of that type), on the
    /// same device: floats round to nearest even, floats become integers toward zero with
    /// saturation (NaN as 0), integers narrow with saturation. Gradients flow back through a
    /// conversion between floating-point types (converted back to this tensor's type); a
    /// conversion to an integer type ends the graph, as in PyTorch.
    public func to(dtype target: DType) throws -> Tensor {
        if target == dtype { return self }
        try backend.require(.copy, target, "to(dtype: \(target))")
        let result = try Tensor.empty(shape, dtype: target, on: backend)
        try backend.copy(view, to: result.view)
        guard dtype.isFloatingPoint && target.isFloatingPoint else { return result }
        let source = dtype
        return result.recordingGradient("to(dtype: \(target))", [self]) { g in [try g.to(dtype: source)] }
    }

    /// This tensor on `target` (itself when already there). Waits for pending work on the source.
    public func to(_ target: Device) throws -> Tensor {
        if target == device { return self }
        let targetBackend = try DeviceRegistry.shared.backend(for: target)
        let source = try dense()
        let result = try Tensor.empty(shape, dtype: dtype, on: targetBackend)
        let bytes = count * dtype.byteSize
        if bytes > 0 {
            var staging = [UInt8](repeating: 0, count: bytes)
            try staging.withUnsafeMutableBytes { try source.backend.read(source.buffer, atByte: 0, into: $0) }
            try staging.withUnsafeBytes { try targetBackend.write($0, to: result.buffer, atByte: 0) }
        }
        let sourceDevice = device
        return result.recordingGradient("to(\(target))", [self]) { g in [try g.to(sourceDevice)] }
    }

    /// Joins tensors of equal shape except along `axis`.
    public static func concat(_ tensors: [Tensor], axis rawAxis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw CortadoError.invalidArgument("concat of no tensors") }
        let a = try first.axis(rawAxis, "concat")
        for t in tensors {
            try first.checkSameDevice("concat", t)
            guard t.rank == first.rank, t.dtype == first.dtype,
                  t.shape.indices.allSatisfy({ $0 == a || t.shape[$0] == first.shape[$0] })
            else {
                throw CortadoError.shapeMismatch("concat along axis \(a): \(tensors.map(\.shape))")
            }
        }
        var outShape = first.shape
        outShape[a] = tensors.map { $0.shape[a] }.reduce(0, +)
        let result = try Tensor.empty(outShape, dtype: first.dtype, on: first.backend)
        var start = 0
        var ranges: [Range<Int>] = []
        for t in tensors {
            let range = start..<(start + t.shape[a])
            ranges.append(range)
            start = range.upperBound
            let window = StridedView(
                buffer: result.buffer, offset: range.lowerBound * result.strides[a], shape: t.shape,
                strides: result.strides)
            try first.backend.copy(t.view, to: window)
        }
        return result.recordingGradient("concat", tensors) { g in
            try ranges.map { try g.sliced(axis: a, $0) }
        }
    }
}
