/// Reductions over a segmented buffer: runs of whole `[n, inner]` blocks that lie in one segment
/// each reduce on their own (into a small buffer copied into place); a single block (`outer` 1,
/// e.g. the sum of a whole table) is reduced per segment into float32 partial results, which one
/// more reduction combines.
extension SegmentingBackend {
    func reduce(
        _ op: ReduceOp, _ x: DeviceBuffer, offset: Int, outer: Int, n: Int, inner: Int, scale: Float,
        into out: DeviceBuffer
    ) throws {
        guard let segments = x.segments, !out.isSegmented else {
            try refuseSegmented("reduce \(op.rawValue)", [out])
            return try base.reduce(op, x, offset: offset, outer: outer, n: n, inner: inner, scale: scale, into: out)
        }
        if let runs = Self.runs(segments, offset: offset, count: outer, length: n * inner) {
            for run in runs {
                let part = try allocator.allocate(count: run.count * inner, dtype: out.dtype)
                try base.reduce(op, run.segment, offset: run.offset, outer: run.count, n: n, inner: inner, scale: scale, into: part)
                try base.copy(
                    StridedView(contiguous: part, shape: [run.count * inner]),
                    to: StridedView(contiguous: out, offset: run.first * inner, shape: [run.count * inner]))
            }
            return
        }
        guard outer == 1, op != .argmax,
              let runs = Self.runs(segments, offset: offset, count: n, length: inner)
        else {
            throw refusal("reduce \(op.rawValue)", x, "its [\(outer), \(n), \(inner)] blocks straddle segments")
        }
        let partials = try allocator.allocate(count: runs.count * inner, dtype: .float32)
        for (index, run) in runs.enumerated() {
            let part = try allocator.allocate(count: inner, dtype: .float32)
            try base.reduce(op, run.segment, offset: run.offset, outer: 1, n: run.count, inner: inner, scale: 1, into: part)
            try base.copy(
                StridedView(contiguous: part, shape: [inner]),
                to: StridedView(contiguous: partials, offset: index * inner, shape: [inner]))
        }
        try base.reduce(op, partials, offset: 0, outer: 1, n: runs.count, inner: inner, scale: scale, into: out)
    }

    /// One run of consecutive blocks lying in one segment.
    private struct Run {
        /// The segment.
        var segment: DeviceBuffer
        /// The element offset of the run's first block in the segment.
        var offset: Int
        /// The index of its first block.
        var first: Int
        /// Blocks in the run.
        var count: Int
    }

    /// The runs of `count` consecutive blocks of `length` elements from `offset` that each lie in
    /// one segment, or `nil` when a block straddles two.
    private static func runs(_ segments: BufferSegments, offset: Int, count: Int, length: Int) -> [Run]? {
        guard length > 0 else { return nil }
        var runs: [Run] = []
        var block = 0
        while block < count {
            let first = offset + block * length
            guard let index = segments.index(of: first) else { return nil }
            let range = segments.range(index)
            let fitting = Swift.min((range.upperBound - first) / length, count - block)
            guard fitting > 0 else { return nil }
            runs.append(Run(segment: segments.buffers[index], offset: first - range.lowerBound, first: block, count: fitting))
            block += fitting
        }
        return runs
    }
}
