import COpenBLAS

extension CPUBackend {
    package func gemm(
        _ d: GemmDescriptor, _ a: MatrixOperand, _ b: MatrixOperand, _ c: MatrixOperand
    ) throws {
        guard d.batch > 0, d.m > 0, d.n > 0 else { return }
        if a.dtype.isHalf || c.dtype != .float32 { return try gemm16(d, a, b, c) }
        // cblas needs one unit stride per operand; anything else is first copied to row-major.
        let (aMatrix, aTrans, lda) = try blasOperand(a, rows: d.m, cols: d.k, batch: d.batch)
        let (bMatrix, bTrans, ldb) = try blasOperand(b, rows: d.k, cols: d.n, batch: d.batch)
        let ldc = d.m == 1 ? max(d.n, 1) : c.rowStride
        let ap = aMatrix.buffer.floats, bp = bMatrix.buffer.floats, cp = c.buffer.floats
        /// Product `batch` of the batch with `beta`, into `target` (row stride `ldc`).
        func product(_ batch: Int, beta: Float, into target: UnsafeMutablePointer<Float>, ldc: Int) {
            cblas_sgemm(
                CblasRowMajor, aTrans, bTrans, Int32(d.m), Int32(d.n), Int32(d.k), d.alpha,
                ap + aMatrix.offset + batch * aMatrix.batchStride, Int32(lda),
                bp + bMatrix.offset + batch * bMatrix.batchStride, Int32(ldb), beta, target, Int32(ldc))
        }
        // OpenBLAS runs a product this small on the calling thread alone: a batch of them (a
        // convolution's per-sample GEMMs) is spread over the cores instead, one piece per core.
        let grain = max(1, Self.gemmBatchGrain / max(d.m * d.n * d.k, 1))
        let pieces = d.m * d.n * d.k < Self.openBLASThreadingThreshold ? Parallel.pieces(count: d.batch, grain: grain) : 1
        let pieceGrain = pieces > 1 ? grain : d.batch
        if !d.reduceBatch {
            Parallel.forEach(count: d.batch, grain: pieceGrain) { range in
                for batch in range { product(batch, beta: d.beta, into: cp + c.offset + batch * c.batchStride, ldc: ldc) }
            }
            return
        }
        // Summing over the batch: each product accumulates onto the previous ones of its piece;
        // piece 0 into C, the others into partial sums added to C in piece order afterwards (the
        // same order on every run).
        let partials = pieces > 1 ? try allocator.allocate(count: (pieces - 1) * d.m * d.n, dtype: .float32) : nil
        let sums = partials?.floats ?? cp  // written only by pieces after the first, which exist only with partials
        Parallel.forEachPiece(count: d.batch, grain: pieceGrain) { piece, range in
            let (target, rowStride) = piece == 0 ? (cp + c.offset, ldc) : (sums + (piece - 1) * d.m * d.n, d.n)
            for batch in range {
                product(batch, beta: batch == range.lowerBound ? (piece == 0 ? d.beta : 0) : 1, into: target, ldc: rowStride)
            }
        }
        guard let partials else { return }
        defer { withExtendedLifetime(partials) {} }  // `sums` points into it
        for piece in 1..<pieces {
            let partial = sums + (piece - 1) * d.m * d.n
            for i in 0..<d.m {
                let row = cp + c.offset + i * ldc
                for j in 0..<d.n { row[j] += partial[i * d.n + j] }
            }
        }
    }

    /// Multiply-adds below which OpenBLAS 0.3 computes a product on one thread
    /// (`GEMM_MULTITHREAD_THRESHOLD` × 65536).
    private static let openBLASThreadingThreshold = 4 * 65_536

    /// Multiply-adds per piece of a batch of small products: about 20 µs of work or more.
    private static let gemmBatchGrain = 1 << 20

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
        let buffer = try allocator.allocate(count: packedBatches * rows * cols, dtype: .float32)
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
