import COpenBLAS

extension CPUBackend {
    package func gemm(
        _ d: GemmDescriptor, _ a: MatrixOperand, _ b: MatrixOperand, _ c: MatrixOperand
    ) throws {
        guard d.batch > 0, d.m > 0, d.n > 0 else { return }
        // cblas needs one unit stride per operand; anything else is first copied to row-major.
        let (aMatrix, aTrans, lda) = try blasOperand(a, rows: d.m, cols: d.k, batch: d.batch)
        let (bMatrix, bTrans, ldb) = try blasOperand(b, rows: d.k, cols: d.n, batch: d.batch)
        let ldc = d.m == 1 ? max(d.n, 1) : c.rowStride
        let ap = aMatrix.buffer.floats, bp = bMatrix.buffer.floats, cp = c.buffer.floats
        for batch in 0..<d.batch {
            // Summing over the batch: each product accumulates onto the previous ones.
            let (beta, cBatch) = d.reduceBatch ? (batch == 0 ? d.beta : 1, 0) : (d.beta, batch)
            cblas_sgemm(
                CblasRowMajor, aTrans, bTrans, Int32(d.m), Int32(d.n), Int32(d.k), d.alpha,
                ap + aMatrix.offset + batch * aMatrix.batchStride, Int32(lda),
                bp + bMatrix.offset + batch * bMatrix.batchStride, Int32(ldb), beta,
                cp + c.offset + cBatch * c.batchStride, Int32(ldc))
        }
    }

    /// The operand as cblas sees it: itself with a transpose flag and leading dimension when one of
    /// its strides is 1, else a row-major copy.
    private func blasOperand(
        _ x: MatrixOperand, rows: Int, cols: Int, batch: Int
    ) throws -> (MatrixOperand, CBLAS_TRANSPOSE, Int) {
        // A dimension of extent 1 may carry any stride; treat it as unit-stride.
        let rowStride = rows == 1 ? max(cols, 1) : x.rowStride
        let columnStride = cols == 1 ? 1 : x.columnStride
        if columnStride == 1 && rowStride >= max(cols, 1) {
            return (x, CblasNoTrans, rowStride)
        }
        let transposedRowStride = rows == 1 ? 1 : x.rowStride
        let transposedColumnStride = cols == 1 ? max(rows, 1) : x.columnStride
        if transposedRowStride == 1 && transposedColumnStride >= max(rows, 1) {
            return (x, CblasTrans, transposedColumnStride)
        }
        let packedBatches = x.batchStride == 0 ? 1 : batch
        let buffer = try allocator.allocate(byteCount: packedBatches * rows * cols * 4)
        try copy(
            StridedView(buffer: x.buffer, offset: x.offset, shape: [packedBatches, rows, cols],
                        strides: [x.batchStride, x.rowStride, x.columnStride]),
            to: StridedView(contiguous: buffer, shape: [packedBatches, rows, cols]))
        let copy = MatrixOperand(
            buffer: buffer, offset: 0, rowStride: cols, columnStride: 1,
            batchStride: x.batchStride == 0 ? 0 : rows * cols)
        return (copy, CblasNoTrans, max(cols, 1))
    }
}
