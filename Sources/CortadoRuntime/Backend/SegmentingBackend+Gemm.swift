/// Matrix products with segmented operands: `C = alpha·A·B + beta·C` cut into blocks of m, n and k
/// at the segment boundaries of each operand's outer dimension (A's and C's rows are blocks of m,
/// B's rows blocks of k; a transposed operand is cut along its columns), each block one product
/// of the device's backend on plain buffers; the k-blocks after the first accumulate with beta 1.
/// Blocks are cut smaller still where the backend's working copies of them would pass the cap.
extension SegmentingBackend {
    /// One operand's place in the product: its extents along two of m, n, k and its strides.
    private struct Placement {
        var operand: MatrixOperand
        /// The dimensions (0: m, 1: n, 2: k) of the operand's rows and columns.
        var dimensions: (rows: Int, columns: Int)
        var extents: (rows: Int, columns: Int)
        /// Batch entries the operand spans (1 for C when the products are summed into one).
        var batch: Int
    }

    func gemm(_ d: GemmDescriptor, _ a: MatrixOperand, _ b: MatrixOperand, _ c: MatrixOperand) throws {
        guard a.buffer.isSegmented || b.buffer.isSegmented || c.buffer.isSegmented else {
            return try base.gemm(d, a, b, c)
        }
        let extents = [d.m, d.n, d.k]
        let placements = [
            Placement(operand: a, dimensions: (0, 2), extents: (d.m, d.k), batch: d.batch),
            Placement(operand: b, dimensions: (2, 1), extents: (d.k, d.n), batch: d.batch),
            Placement(operand: c, dimensions: (0, 1), extents: (d.m, d.n), batch: d.reduceBatch ? 1 : d.batch),
        ]
        var cuts: [Set<Int>] = extents.map { [0, $0] }
        for placement in placements where placement.operand.buffer.isSegmented {
            let (dimension, points) = try self.cuts(placement)
            cuts[dimension].formUnion(points)
        }
        // Blocks small enough that a backend's padded float32 copy of any operand block (OpenCL
        // packs both operands) stays within half the cap.
        let budget = Swift.max(allocator.cap / 8, 1)
        let mLimit = Swift.max(1, budget / Swift.max(d.k, d.n, 1))
        let nLimit = Swift.max(1, budget / Swift.max(d.k, d.m, 1))
        let kLimit = Swift.max(1, budget / Swift.max(Swift.min(d.m, mLimit), Swift.min(d.n, nLimit), 1))
        let blocks = zip(cuts, [mLimit, nLimit, kLimit]).map { points, limit -> [Range<Int>] in
            let sorted = points.sorted()
            guard sorted.count >= 2 else { return [0..<0] }
            return zip(sorted, sorted.dropFirst()).flatMap { start, end in
                stride(from: start, to: end, by: limit).map { $0..<Swift.min($0 + limit, end) }
            }
        }
        for m in blocks[0] {
            for n in blocks[1] {
                for (index, k) in blocks[2].enumerated() {
                    var block = d
                    (block.m, block.n, block.k) = (m.count, n.count, k.count)
                    if index > 0 { block.beta = 1 }
                    let starts = [m.lowerBound, n.lowerBound, k.lowerBound]
                    let operands = try placements.map { try located($0, starts: starts, extents: [m.count, n.count, k.count]) }
                    try base.gemm(block, operands[0], operands[1], operands[2])
                }
            }
        }
    }

    /// The lowest and highest element offsets of one operand's block relative to its first element.
    private static func span(rows: Int, rowStride: Int, columns: Int, columnStride: Int, batch: Int, batchStride: Int) -> (low: Int, high: Int) {
        var (low, high) = (0, 0)
        for (extent, stride) in [(rows, rowStride), (columns, columnStride), (batch, batchStride)] where extent > 0 {
            let reach = (extent - 1) * stride
            if reach < 0 { low += reach } else { high += reach }
        }
        return (low, high)
    }

    /// The dimension along which a segmented operand is cut (its outer one: the larger stride), and
    /// the indices along it where a new segment begins.
    private func cuts(_ p: Placement) throws -> (Int, Set<Int>) {
        let o = p.operand
        let segments = o.buffer.segments!
        let rowsOuter = p.extents.columns <= 1 || (p.extents.rows > 1 && abs(o.rowStride) >= abs(o.columnStride))
        let (dimension, extent, stride) = rowsOuter
            ? (p.dimensions.rows, p.extents.rows, o.rowStride)
            : (p.dimensions.columns, p.extents.columns, o.columnStride)
        let (low, high) = rowsOuter
            ? Self.span(rows: 1, rowStride: 0, columns: p.extents.columns, columnStride: o.columnStride, batch: p.batch, batchStride: o.batchStride)
            : Self.span(rows: p.extents.rows, rowStride: o.rowStride, columns: 1, columnStride: 0, batch: p.batch, batchStride: o.batchStride)
        guard extent > 1 else { return (dimension, []) }
        guard stride > 0 else { throw refusal("gemm", o.buffer, "its outer stride is \(stride)") }
        var points: Set<Int> = []
        var index = 0
        while index < extent {
            let first = o.offset + index * stride
            guard let segment = segments.index(of: first + low) else {
                throw refusal("gemm", o.buffer, "an operand reaches outside its buffer")
            }
            let limit = segments.range(segment).upperBound
            guard first + high < limit else {
                throw refusal("gemm", o.buffer, "a row of the product straddles two of its segments")
            }
            index += (limit - 1 - high - first) / stride + 1
            if index < extent { points.insert(index) }
        }
        return (dimension, points)
    }

    /// The operand of one block: on its segment, rebased, for a segmented buffer.
    private func located(_ p: Placement, starts: [Int], extents: [Int]) throws -> MatrixOperand {
        let o = p.operand
        let offset = o.offset + starts[p.dimensions.rows] * o.rowStride + starts[p.dimensions.columns] * o.columnStride
        guard let segments = o.buffer.segments else {
            return MatrixOperand(buffer: o.buffer, offset: offset, rowStride: o.rowStride, columnStride: o.columnStride, batchStride: o.batchStride)
        }
        let (low, high) = Self.span(
            rows: extents[p.dimensions.rows], rowStride: o.rowStride, columns: extents[p.dimensions.columns],
            columnStride: o.columnStride, batch: p.batch, batchStride: o.batchStride)
        guard let index = segments.index(of: offset + low), segments.range(index).contains(offset + high) else {
            throw refusal("gemm", o.buffer, "a block of the product straddles two of its segments")
        }
        let range = segments.range(index)
        return MatrixOperand(
            buffer: segments.buffers[index], offset: offset - range.lowerBound, rowStride: o.rowStride,
            columnStride: o.columnStride, batchStride: o.batchStride)
    }
}
