import CVectorMath

/// Quantised inference on the CPU: CVectorMath's int8 GEMM (`vpdpbusd` where the processor has
/// AVX-512 VNNI, `vpmaddwd` on AVX-512 BW, else plain C) and its row quantiser.
extension CPUBackend {
    package func quantizedGemm(
        _ d: QuantizedGemmDescriptor, _ a: DeviceBuffer, aScales: DeviceBuffer, _ w: DeviceBuffer,
        wScales: DeviceBuffer, bias: DeviceBuffer?, into out: DeviceBuffer
    ) throws {
        guard d.m > 0, d.n > 0 else { return }
        let blocks = d.blocks
        let aBase = a.handle.hostPointer.assumingMemoryBound(to: Int8.self)
        let wBase = w.handle.hostPointer.assumingMemoryBound(to: Int8.self)
        let aScaleBase = aScales.floats, wScaleBase = wScales.floats, outBase = out.floats
        let biasBase = bias?.floats
        /// Rows `rows` of the product.
        func product(rows: Range<Int>) -> cortado_qgemm {
            cortado_qgemm(
                a: aBase + rows.lowerBound * d.k, a_row: d.k, a_scales: aScaleBase + rows.lowerBound * blocks,
                w: wBase, w_row: d.k, w_scales: wScaleBase, bias: biasBase,
                c: outBase + rows.lowerBound * d.n, c_row: d.n, m: rows.count, n: d.n, k: d.k, block: min(d.block, d.k))
        }
        let work = d.m * d.n * max(d.k, 1)
        let workers = work >= Self.quantizedSplitThreshold ? Parallel.workers : 1
        // Products with more columns than rows split their columns between the cores (each packs
        // only its own weights); the others split their rows: each core then sums the row offsets
        // (−128 · Σ a per block) of its own rows only, which for q8_0's blocks of 32 cost more than
        // packing all the weights (an encoder's 1,728 × 384 × 384 products: q8_0 embeddings 6 %
        // faster, medians of 5 interleaved runs), as do narrow products (a classifier head).
        let byColumns = d.n >= 64 * workers && d.n >= d.m
        let pieces = byColumns ? min(workers, d.n / 32) : min(workers, d.m)
        var whole = product(rows: 0..<d.m)
        let scratchBytes = (cortado_qgemm_scratch_bytes(&whole) + 63) / 64 * 64
        let scratch = try allocator.allocate(count: max(pieces, 1) * scratchBytes, dtype: .uint8)
        let scratchBase = scratch.handle.hostPointer
        defer { withExtendedLifetime(scratch) {} }  // `scratchBase` points into it
        Parallel.forEachPiece(count: max(pieces, 1), grain: 1) { piece, _ in
            if byColumns {
                var g = whole
                let (n0, n1) = (d.n * piece / pieces / 32 * 32, piece + 1 == pieces ? d.n : d.n * (piece + 1) / pieces / 32 * 32)
                cortado_qgemm_columns(&g, n0, n1, scratchBase + piece * scratchBytes)
            } else {
                var g = product(rows: (d.m * piece / pieces)..<(d.m * (piece + 1) / pieces))
                cortado_qgemm_columns(&g, 0, d.n, scratchBase + piece * scratchBytes)
            }
        }
    }

    /// Multiply-adds from which a product is split between the cores.
    private static let quantizedSplitThreshold = 1 << 18

    package func quantizeRows(
        _ x: DeviceBuffer, rows: Int, width: Int, block: Int, fixed: DeviceBuffer?, multipliers: DeviceBuffer?,
        into q: DeviceBuffer, scales: DeviceBuffer
    ) throws {
        guard rows > 0, width > 0 else { return }
        let xBase = x.floats, qBase = q.handle.hostPointer.assumingMemoryBound(to: Int8.self), sBase = scales.floats
        let fixedBase = fixed?.floats, multiplierBase = multipliers?.floats
        let grain = max(1, 16_384 / width)
        Parallel.forEach(count: rows, grain: grain) { range in
            cortado_quantize_rows_scaled(
                xBase, width, range.lowerBound, range.upperBound, width, min(block, width), fixedBase, multiplierBase, qBase, sBase)
        }
    }
}
