extension Tensor {
    /// Matrix product with NumPy semantics: `[…, m, k] × […, k, n] → […, m, n]` with broadcast batch
    /// dimensions; a 1-D operand is a row (left) or column (right) vector, dropped from the result.
    /// Transposed views are multiplied without copying.
    public func matmul(_ other: Tensor) throws -> Tensor {
        guard rank >= 1, other.rank >= 1 else {
            throw CortadoError.shapeMismatch("matmul needs at least 1-D operands, not \(shape) and \(other.shape)")
        }
        if rank == 1 && other.rank == 1 {
            return try reshaped([1, count]).matmul(other.reshaped([other.count, 1])).reshaped([])
        }
        if rank == 1 { return try reshaped([1, count]).matmul(other).squeezed(axis: -2) }
        if other.rank == 1 { return try matmul(other.reshaped([other.count, 1])).squeezed(axis: -1) }
        if rank > 2 && other.rank == 2 {
            // [..., m, k] × [k, n] is one GEMM of all rows rather than a batch of small ones, and its
            // weight gradient one GEMM summing over every row instead of a product per batch entry.
            let rows = shape.dropLast().reduce(1, *)
            return try reshaped([rows, shape[rank - 1]]).matmul(other).reshaped(shape.dropLast() + [other.shape[1]])
        }

        let out = try matmulWithoutGradient(other)
        let a = detached(), b = other.detached()
        let (aShape, bShape) = (shape, other.shape)
        let (aNeeds, bNeeds) = (requiresGrad, other.requiresGrad)
        return out.recordingGradient("matmul", [self, other]) { g in
            [aNeeds ? try g.matmulWithoutGradient(b.transposed()).summed(toShape: aShape) : nil,
             bNeeds ? try a.transposed().matmulWithoutGradient(g).summed(toShape: bShape) : nil]
        }
    }

    /// `self · weightᵀ + bias` over the last dimension, PyTorch's `F.linear`: `self` `[…, inputs]`,
    /// `weight` `[outputs, inputs]`, `bias` `[outputs]`.
    ///
    /// One GEMM for every row: the output starts as the broadcast bias and the GEMM accumulates onto
    /// it (beta = 1), which saves the separate pass of adding the bias and the one in which the GEMM
    /// would clear its output.
    public func linear(weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        guard rank >= 1, weight.rank == 2, weight.shape[1] == shape[rank - 1] else {
            throw CortadoError.shapeMismatch("linear: input \(shape) and weight \(weight.shape) (expected [outputs, \(shape.last ?? 0)])")
        }
        guard let bias else { return try matmul(weight.transposed()) }
        let outputs = weight.shape[0]
        guard bias.shape == [outputs] else {
            throw CortadoError.shapeMismatch("linear: bias \(bias.shape) for \(outputs) outputs")
        }
        try checkSameDevice("linear", weight, bias)
        try requireSupport(.gemm, "linear", weight, bias)
        let rows = shape.dropLast().reduce(1, *)
        let x = try detached().reshaped([rows, shape[rank - 1]]), wT = try weight.detached().transposed()
        let out = try Tensor.empty([rows, outputs], dtype: dtype, on: backend)
        try backend.copy(
            StridedView(buffer: bias.buffer, offset: bias.offset, shape: [rows, outputs], strides: [0, bias.strides[0]]),
            to: out.view)
        try backend.gemm(
            GemmDescriptor(batch: 1, m: rows, n: outputs, k: x.shape[1], beta: 1),
            try x.matrixOperand(batchShape: []), try wT.matrixOperand(batchShape: []),
            MatrixOperand(buffer: out.buffer, offset: 0, rowStride: outputs, columnStride: 1, batchStride: rows * outputs))
        let (xd, wd) = (x, weight.detached())
        let needs = [requiresGrad, weight.requiresGrad, bias.requiresGrad]
        let inputShape = shape
        let result = out.recordingGradient("linear", [self, weight, bias]) { g in
            [needs[0] ? try g.matmulWithoutGradient(wd).reshaped(inputShape) : nil,
             needs[1] ? try g.transposed().matmulWithoutGradient(xd) : nil,
             needs[2] ? try g.summed(toShape: [outputs]) : nil]
        }
        return try result.reshaped(shape.dropLast() + [outputs])
    }

    /// The batched GEMM behind ``matmul(_:)`` for operands of rank ≥ 2.
    package func matmulWithoutGradient(_ other: Tensor) throws -> Tensor {
        try checkSameDevice("matmul", other)
        try requireSupport(.gemm, "matmul", other)
        let (m, k, k2, n) = (shape[rank - 2], shape[rank - 1], other.shape[other.rank - 2], other.shape[other.rank - 1])
        guard k == k2 else {
            throw CortadoError.shapeMismatch("matmul: \(shape) × \(other.shape) (inner dimensions \(k) and \(k2) differ)")
        }
        let batchShape = try Broadcasting.shape(Array(shape.dropLast(2)), Array(other.shape.dropLast(2)), op: "matmul")
        let batch = batchShape.reduce(1, *)
        let out = try Tensor.empty(batchShape + [m, n], dtype: dtype, on: backend)
        let descriptor = GemmDescriptor(batch: batch, m: m, n: n, k: k)
        try backend.gemm(
            descriptor, try matrixOperand(batchShape: batchShape), try other.matrixOperand(batchShape: batchShape),
            MatrixOperand(buffer: out.buffer, offset: 0, rowStride: n, columnStride: 1, batchStride: m * n))
        return out
    }

    /// The last two dimensions as a matrix with one batch stride over `batchShape` (broadcast
    /// batches have stride 0); a copy when the batch dimensions cannot share one stride.
    private func matrixOperand(batchShape: [Int]) throws -> MatrixOperand {
        let fullShape = batchShape + shape.suffix(2)
        let fullStrides = Broadcasting.strides(of: self, to: fullShape)
        let batchDims = batchShape.count
        let merged = Layout.coalesce(shape: batchShape, strides: [Array(fullStrides.prefix(batchDims))])
        if merged.shape.count == 1 {
            let batchStride = merged.shape[0] == 1 ? 0 : merged.strides[0][0]
            return MatrixOperand(
                buffer: buffer, offset: offset, rowStride: fullStrides[batchDims], columnStride: fullStrides[batchDims + 1],
                batchStride: batchStride)
        }
        let copy = try Tensor.empty(fullShape, dtype: dtype, on: backend)
        try backend.copy(StridedView(buffer: buffer, offset: offset, shape: fullShape, strides: fullStrides), to: copy.view)
        let (rows, cols) = (fullShape[batchDims], fullShape[batchDims + 1])
        return MatrixOperand(buffer: copy.buffer, offset: 0, rowStride: cols, columnStride: 1, batchStride: rows * cols)
    }
}
