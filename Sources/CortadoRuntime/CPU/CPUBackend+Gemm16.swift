import CVectorMath

/// Matrix products with 16-bit float operands or result: CVectorMath's `cortado_gemm16`, which
/// accumulates in float32 and reads bfloat16 and float16 panels directly (vdpbf16ps, or widened
/// float32 tiles, whichever this processor runs faster), so no float32 copy of an operand is made.
extension CPUBackend {
    /// `C = alpha · A · B + beta · C` per batch entry (or summed over the batch) for 16-bit operands
    /// or a 16-bit C.
    func gemm16(_ d: GemmDescriptor, _ a: MatrixOperand, _ b: MatrixOperand, _ c: MatrixOperand) throws {
        let products = d.reduceBatch ? 1 : d.batch
        let work = d.m * d.n * max(d.k, 1)
        // Large products split their columns over the cores; a batch of small ones spreads its
        // entries instead (each entry then runs on one core).
        let columnPieces = work >= Self.gemm16SplitThreshold ? min(Parallel.workers, max(1, d.n / 32)) : 1
        if d.reduceBatch && d.batch > 1 { return try gemm16SummedOverBatch(d, a, b, c, columnPieces: columnPieces) }
        let scratchBytes = cortado_gemm16_scratch_bytes([descriptor(d, a, b, c, batch: 0)], (d.n + columnPieces - 1) / columnPieces)
        if columnPieces > 1 {
            let scratch = try allocator.allocate(count: columnPieces * scratchBytes, dtype: .uint8)
            for batch in 0..<products {
                var g = descriptor(d, a, b, c, batch: batch)
                Parallel.forEachPiece(count: columnPieces, grain: 1) { piece, _ in
                    let (n0, n1) = (d.n * piece / columnPieces, d.n * (piece + 1) / columnPieces)
                    cortado_gemm16_columns(&g, n0, n1, scratch.handle.hostPointer + piece * scratchBytes)
                }
            }
            return
        }
        let grain = max(1, Self.gemm16SplitThreshold / max(work, 1))
        let pieces = Parallel.pieces(count: products, grain: grain)
        let scratch = try allocator.allocate(count: pieces * scratchBytes, dtype: .uint8)
        Parallel.forEachPiece(count: products, grain: grain) { piece, range in
            for batch in range {
                var g = descriptor(d, a, b, c, batch: batch)
                cortado_gemm16_columns(&g, 0, d.n, scratch.handle.hostPointer + piece * scratchBytes)
            }
        }
    }

    /// Multiply-adds from which one product's columns are split between the cores.
    private static let gemm16SplitThreshold = 1 << 21

    /// `C = alpha · Σ_b A[b]·B[b] + beta · C`: each piece of the batch accumulates its products in a
    /// float32 partial sum (the first product of a piece with beta 0, the others onto it), and the
    /// partials are added in piece order, so the result does not depend on scheduling.
    private func gemm16SummedOverBatch(
        _ d: GemmDescriptor, _ a: MatrixOperand, _ b: MatrixOperand, _ c: MatrixOperand, columnPieces: Int
    ) throws {
        let count = d.m * d.n
        var single = d
        single.reduceBatch = false
        single.alpha = 1
        single.beta = 0
        // The partial sums are float32 scratch, so they may be computed transposed (Cᵀ = Bᵀ·Aᵀ)
        // when that pads less to whole 12 × 32 tiles: a convolution's weight gradient has few
        // columns (the patch) and many rows (the channels).
        let transposed = Self.paddedTiles(m: d.n, n: d.m) < Self.paddedTiles(m: d.m, n: d.n)
        var (a, b) = (a, b)
        if transposed {
            (a, b) = (b.transposed, a.transposed)
            (single.m, single.n) = (d.n, d.m)
        }
        let columns = single.n
        let columnPieces = min(columnPieces, max(1, columns / 32))
        let grain = columnPieces > 1 ? d.batch : max(1, Self.gemm16SplitThreshold / max(d.m * d.n * max(d.k, 1), 1))
        let pieces = Parallel.pieces(count: d.batch, grain: grain)
        let partials = try allocator.allocate(count: pieces * count, dtype: .float32)
        let partial = MatrixOperand(buffer: partials, offset: 0, rowStride: columns, columnStride: 1, batchStride: count)
        let scratchBytes = cortado_gemm16_scratch_bytes(
            [descriptor(single, a, b, partial, batch: 0)], (columns + columnPieces - 1) / columnPieces)
        let scratch = try allocator.allocate(count: max(pieces, columnPieces) * scratchBytes, dtype: .uint8)
        Parallel.forEachPiece(count: d.batch, grain: grain) { piece, range in
            for batch in range {
                var entry = single
                entry.beta = batch == range.lowerBound ? 0 : 1
                var g = descriptor(entry, a, b, partial, batch: batch, into: piece)
                if columnPieces > 1 {
                    Parallel.forEachPiece(count: columnPieces, grain: 1) { column, _ in
                        let (n0, n1) = (columns * column / columnPieces, columns * (column + 1) / columnPieces)
                        cortado_gemm16_columns(&g, n0, n1, scratch.handle.hostPointer + column * scratchBytes)
                    }
                } else {
                    cortado_gemm16_columns(&g, 0, columns, scratch.handle.hostPointer + piece * scratchBytes)
                }
            }
        }
        let sums = partials.floats
        for piece in 1..<pieces {
            for i in 0..<count { sums[i] += sums[piece * count + i] }
        }
        // C = alpha · sum + beta · C, in C's type.
        let target = StridedView(buffer: c.buffer, offset: c.offset, shape: [d.m, d.n], strides: [c.rowStride, c.columnStride])
        let sum = transposed
            ? StridedView(buffer: partials, offset: 0, shape: [d.m, d.n], strides: [1, d.m])
            : StridedView(contiguous: partials, shape: [d.m, d.n])
        if d.alpha != 1 { try unary(.mulScalar(d.alpha), sum, into: sum) }
        if d.beta == 0 { return try copy(sum, to: target) }
        let scaled = try allocator.allocate(count: count, dtype: .float32)
        let old = StridedView(contiguous: scaled, shape: [d.m, d.n])
        try copy(target, to: old)
        try binary(.add, sum, old.scaled(by: d.beta, on: self), into: old)
        try copy(old, to: target)
    }

    /// The multiply-adds of an `m × n` product once padded to whole 12 × 32 tiles (per unit of k).
    private static func paddedTiles(m: Int, n: Int) -> Int {
        (m + 11) / 12 * 12 * ((n + 31) / 32 * 32)
    }

    /// The C description of batch entry `batch` (C's entry `into`, by default the same).
    private func descriptor(
        _ d: GemmDescriptor, _ a: MatrixOperand, _ b: MatrixOperand, _ c: MatrixOperand, batch: Int, into: Int? = nil
    ) -> cortado_gemm16 {
        func type(_ dtype: DType) -> cortado_gemm16_type {
            switch dtype {
            case .float16: return CORTADO_GEMM16_F16
            case .bfloat16: return CORTADO_GEMM16_BF16
            default: return CORTADO_GEMM16_F32
            }
        }
        func address(_ x: MatrixOperand, _ entry: Int) -> UnsafeMutableRawPointer {
            x.buffer.handle.hostPointer + (x.offset + entry * x.batchStride) * x.dtype.byteSize
        }
        return cortado_gemm16(
            ab_type: type(a.dtype), a: address(a, batch), a_row: a.rowStride, a_col: a.columnStride,
            b: address(b, batch), b_row: b.rowStride, b_col: b.columnStride,
            c_type: type(c.dtype), c: address(c, into ?? (d.reduceBatch ? 0 : batch)), c_row: c.rowStride,
            m: d.m, n: d.n, k: d.k, alpha: d.alpha, beta: d.beta)
    }
}

private extension MatrixOperand {
    /// The same matrix read transposed.
    var transposed: MatrixOperand {
        MatrixOperand(buffer: buffer, offset: offset, rowStride: columnStride, columnStride: rowStride, batchStride: batchStride)
    }
}

private extension StridedView {
    /// This view multiplied by `factor` into new memory (itself when the factor is 1).
    func scaled(by factor: Float, on backend: CPUBackend) throws -> StridedView {
        if factor == 1 { return self }
        let out = StridedView(contiguous: try backend.allocator.allocate(count: count, dtype: .float32), shape: shape)
        try backend.unary(.mulScalar(factor), self, into: out)
        return out
    }
}
