extension OpenCLBackend {
    package func gemm(
        _ d: GemmDescriptor, _ a: MatrixOperand, _ b: MatrixOperand, _ c: MatrixOperand
    ) throws {
        try refitting {
            guard d.batch > 0, d.m > 0, d.n > 0 else { return }
            if d.reduceBatch && d.batch > 1 { return try gemmSummedOverBatch(d, a, b, c) }
            let g = parameters.gemm
            let slices = Self.splitK(m: d.m, n: d.n, k: d.k, batch: d.batch, gemm: g, computeUnits: info.computeUnits)
            if slices > 1 { return try gemmSplitK(d, a, b, c, slices: slices) }
            if d.k == 0 {
                // C = beta · C: scale in place (or clear) without touching A and B.
                let view = StridedView(
                    buffer: c.buffer, offset: c.offset, shape: [d.batch, d.m, d.n],
                    strides: [c.batchStride, c.rowStride, 1])
                if d.beta != 0 { return try unary(.mulScalar(d.beta), view, into: view) }
                // beta = 0 must not read C, which may hold NaN.
                for batch in 0..<d.batch {
                    for row in 0..<d.m {
                        try fill(c.buffer, offset: c.offset + batch * c.batchStride + row * c.rowStride, count: d.n, value: 0)
                    }
                }
                return
            }
            let kp = g.algorithm == .localTiled ? (d.k + g.tileK - 1) / g.tileK * g.tileK : d.k
            // Pack B as Bᵀ (n × k) so both operands become [kp][panel] panels.
            let transposedB = MatrixOperand(
                buffer: b.buffer, offset: b.offset, rowStride: b.columnStride, columnStride: b.rowStride,
                batchStride: b.batchStride)
            let family = KernelFamily.gemm(a.dtype, c.dtype)
            let packedA = try pack(a, rows: d.m, cols: d.k, kp: kp, panel: g.tileM, batch: d.batch, family, native: nil)
            let packedB = try pack(transposedB, rows: d.n, cols: d.k, kp: kp, panel: g.tileN, batch: d.batch, family, native: a.dtype)
            let rowTiles = (d.m + g.tileM - 1) / g.tileM
            let columnTiles = (d.n + g.tileN - 1) / g.tileN
            let arguments: [KernelArgument] = [
                .buffer(packedA.buffer), .long(packedA.batchStride), .buffer(packedB.buffer), .long(packedB.batchStride),
                .buffer(c.buffer), .int(c.offset), .int(c.rowStride), .long(c.batchStride),
                .int(d.m), .int(d.n), .int(kp), .float(d.alpha), .float(d.beta),
            ]
            switch g.algorithm {
            case .registerBlocked:
                // The kernel derives its tile from the linear id (grouped walk), so only the product of
                // the first two extents matters.
                try launch(family, "gemm_register_blocked", global: [rowTiles, columnTiles, d.batch], local: [1, 1, 1],
                           arguments)
            case .localTiled:
                try launch(family, "gemm_local_tiled",
                           global: [columnTiles * g.threadsN, rowTiles * g.threadsM, d.batch],
                           local: [g.threadsN, g.threadsM, 1], arguments)
            }
        }
    }

    /// The fewest columns of A (rows of B) a split-K slice takes.
    static let splitKMinimumSlice = 256

    /// Into how many slices of k a single product is split: enough that its tiles and slices give
    /// every compute unit two work-groups, with slices of at least ``splitKMinimumSlice``; 1 (no
    /// split) when its tiles already do, or for batched products.
    ///
    /// A product with a small result and a long k (the cnn's dense layer on a batch of 64: 64 × 64
    /// from k = 5408) is one 64 × 64 tile, one work-group, on a GPU of 132 compute units: 0.45 ms of
    /// a 0.93 ms step on the H200 at 94 GFLOPS. Split into slices, its partial products run side by
    /// side and a column sum adds them (cuBLAS's split-K).
    package static func splitK(m: Int, n: Int, k: Int, batch: Int, gemm g: KernelParameters.Gemm, computeUnits: Int) -> Int {
        guard batch == 1, computeUnits > 0, m > 0, n > 0 else { return 1 }
        let tiles = ((m + g.tileM - 1) / g.tileM) * ((n + g.tileN - 1) / g.tileN)
        return max(1, min(2 * computeUnits / tiles, k / splitKMinimumSlice))
    }

    /// `C = alpha · A·B + beta · C` as the sum of `slices` products over equal slices of k (the
    /// batched products, summed over the batch), plus the product over the last `k mod slices`
    /// columns, accumulated.
    private func gemmSplitK(_ d: GemmDescriptor, _ a: MatrixOperand, _ b: MatrixOperand, _ c: MatrixOperand, slices: Int) throws {
        let width = d.k / slices, covered = width * slices
        try gemm(
            GemmDescriptor(batch: slices, m: d.m, n: d.n, k: width, alpha: d.alpha, beta: d.beta, reduceBatch: true),
            MatrixOperand(buffer: a.buffer, offset: a.offset, rowStride: a.rowStride, columnStride: a.columnStride,
                          batchStride: width * a.columnStride),
            MatrixOperand(buffer: b.buffer, offset: b.offset, rowStride: b.rowStride, columnStride: b.columnStride,
                          batchStride: width * b.rowStride),
            c)
        guard covered < d.k else { return }
        try gemm(
            GemmDescriptor(batch: 1, m: d.m, n: d.n, k: d.k - covered, alpha: d.alpha, beta: 1),
            MatrixOperand(buffer: a.buffer, offset: a.offset + covered * a.columnStride, rowStride: a.rowStride,
                          columnStride: a.columnStride, batchStride: 0),
            MatrixOperand(buffer: b.buffer, offset: b.offset + covered * b.rowStride, rowStride: b.rowStride,
                          columnStride: b.columnStride, batchStride: 0),
            c)
    }

    /// `C = alpha · Σ_b A[b]·B[b] + beta · C`: the batched products into scratch memory, then one
    /// column reduction over the batch.
    private func gemmSummedOverBatch(
        _ d: GemmDescriptor, _ a: MatrixOperand, _ b: MatrixOperand, _ c: MatrixOperand
    ) throws {
        let count = d.m * d.n
        let products = try allocator.allocate(count: d.batch * count, dtype: .float32)
        var batched = d
        batched.reduceBatch = false
        batched.beta = 0
        try gemm(batched, a, b, MatrixOperand(buffer: products, offset: 0, rowStride: d.n, columnStride: 1, batchStride: count))
        if d.beta == 0 && c.rowStride == d.n && c.offset == 0 {
            return try reduce(.sum, products, offset: 0, outer: 1, n: d.batch, inner: count, scale: 1, into: c.buffer)
        }
        let sum = try allocator.allocate(count: count, dtype: c.dtype)
        try reduce(.sum, products, offset: 0, outer: 1, n: d.batch, inner: count, scale: 1, into: sum)
        let target = StridedView(buffer: c.buffer, offset: c.offset, shape: [d.m, d.n], strides: [c.rowStride, 1])
        if d.beta != 1 { try unary(.mulScalar(d.beta), target, into: target) }
        try binary(.add, target, StridedView(contiguous: sum, shape: [d.m, d.n]), into: target)
    }

    /// Packs an operand into zero-padded `[kp][panel]` panels: float ones (from any float type), or
    /// with `native`, the operand's own element type, copied as bits (B's panels: half the bytes
    /// for 16-bit operands; `Kernels/gemm.cl` says why A's stay float). A broadcast operand (batch
    /// stride 0) is packed once and reused for every batch entry (returned batch stride 0).
    private func pack(
        _ x: MatrixOperand, rows: Int, cols: Int, kp: Int, panel: Int, batch: Int, _ family: KernelFamily, native: DType?
    ) throws -> (buffer: DeviceBuffer, batchStride: Int) {
        let panels = (rows + panel - 1) / panel
        let perBatch = panels * panel * kp
        let packedBatches = x.batchStride == 0 ? 1 : batch
        let total = perBatch * packedBatches
        let buffer = try allocator.allocate(count: total, dtype: native ?? .float32)
        let suffix = native == nil ? "" : "_native"
        let common: [KernelArgument] = [
            .buffer(x.buffer), .int(x.offset), .int(x.rowStride), .int(x.columnStride), .long(x.batchStride),
            .int(rows), .int(cols), .int(panel), .int(kp), .buffer(buffer),
        ]
        switch parameters.gemm.algorithm {
        case .registerBlocked:
            let blocks = (kp + 15) / 16  // PACK_COLUMNS in gemm.cl
            try launch(family, "gemm_pack_blocks" + suffix, global: [blocks, panels, packedBatches], local: [1, 1, 1], common)
        case .localTiled:
            try launch(family, "gemm_pack_elements" + suffix, global: [total], local: [parameters.elementwiseWorkGroup],
                       common + [.long(total)])
        }
        return (buffer, x.batchStride == 0 ? 0 : perBatch)
    }
}
