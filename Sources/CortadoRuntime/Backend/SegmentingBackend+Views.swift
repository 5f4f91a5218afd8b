/// Elementwise operations and copies over segmented buffers: the views are cut into pieces in
/// which each view lies in one buffer, and the device's backend runs each piece.
extension SegmentingBackend {
    func copy(_ source: StridedView, to destination: StridedView) throws {
        guard source.buffer.isSegmented || destination.buffer.isSegmented else {
            return try base.copy(source, to: destination)
        }
        try forEachPiece("copy", [source, destination]) { try base.copy($0[0], to: $0[1]) }
    }

    func unary(_ op: UnaryOp, _ x: StridedView, into out: StridedView) throws {
        guard x.buffer.isSegmented || out.buffer.isSegmented else { return try base.unary(op, x, into: out) }
        try forEachPiece("\(op)", [x, out]) { try base.unary(op, $0[0], into: $0[1]) }
    }

    func binary(_ op: BinaryOp, _ a: StridedView, _ b: StridedView, into out: StridedView) throws {
        guard a.buffer.isSegmented || b.buffer.isSegmented || out.buffer.isSegmented else {
            return try base.binary(op, a, b, into: out)
        }
        try forEachPiece(op.rawValue, [a, b, out]) { try base.binary(op, $0[0], $0[1], into: $0[2]) }
    }

    /// Runs `body` on pieces of `views` (one shape, each view with its own strides) in which every
    /// view lies within one buffer: after merging the dimensions all views walk contiguously (a
    /// dense table and its gradient become one run, cut at the segment boundaries), runs of the
    /// outermost dimension, and where one index of it straddles a boundary, that index's
    /// sub-block, recursively.
    func forEachPiece(_ op: String, _ views: [StridedView], _ body: ([StridedView]) throws -> Void) throws {
        let shape = views[0].shape
        guard !shape.contains(0) else { return }
        let (merged, strides) = Layout.coalesce(shape: shape, strides: views.map(\.strides))
        try split(op, views, offsets: views.map(\.offset), shape: merged[...], strides: strides.map { $0[...] }, body)
    }

    /// The lowest and highest element offsets (relative to the view's offset) of a block.
    private static func span(_ shape: ArraySlice<Int>, _ strides: ArraySlice<Int>) -> (low: Int, high: Int) {
        var (low, high) = (0, 0)
        for (extent, stride) in zip(shape, strides) {
            let reach = (extent - 1) * stride
            if reach < 0 { low += reach } else { high += reach }
        }
        return (low, high)
    }

    /// The view of a block that lies in one buffer: itself for an ordinary buffer, the block
    /// rebased onto its segment, or `nil` when it straddles segments.
    private static func located(
        _ view: StridedView, offset: Int, shape: ArraySlice<Int>, strides: ArraySlice<Int>
    ) -> StridedView? {
        guard let segments = view.buffer.segments else {
            return StridedView(buffer: view.buffer, offset: offset, shape: Array(shape), strides: Array(strides))
        }
        let (low, high) = span(shape, strides)
        guard let index = segments.index(of: offset + low), segments.range(index).contains(offset + high) else { return nil }
        let range = segments.range(index)
        return StridedView(
            buffer: segments.buffers[index], offset: offset - range.lowerBound, shape: Array(shape), strides: Array(strides))
    }

    private func split(
        _ op: String, _ views: [StridedView], offsets: [Int], shape: ArraySlice<Int>, strides: [ArraySlice<Int>],
        _ body: ([StridedView]) throws -> Void
    ) throws {
        let whole = views.indices.map { Self.located(views[$0], offset: offsets[$0], shape: shape, strides: strides[$0]) }
        if whole.allSatisfy({ $0 != nil }) { return try body(whole.map { $0! }) }
        guard let extent = shape.first else {
            // A single element lies in one segment unless the view reaches outside its buffer.
            let outside = views.first { $0.buffer.isSegmented }!.buffer
            throw refusal(op, outside, "a view reaches outside its buffer")
        }
        let rest = shape.dropFirst()
        var start = 0
        while start < extent {
            // The longest run of outer indices from `start` in which every view stays in one segment.
            var end = extent
            for (index, view) in views.enumerated() {
                guard let segments = view.buffer.segments else { continue }
                let stride = strides[index].first!
                let (low, high) = Self.span(rest, strides[index].dropFirst())
                let first = offsets[index] + start * stride
                guard let segment = segments.index(of: first + low) else {
                    throw refusal(op, view.buffer, "a view reaches outside its buffer")
                }
                let limit = segments.range(segment).upperBound
                if first + high >= limit {
                    end = start  // this index straddles a boundary
                } else if stride > 0 {
                    end = Swift.min(end, start + (limit - 1 - high - first) / stride + 1)
                } else if stride < 0 {
                    end = Swift.min(end, start + 1)
                }
            }
            if end == start {
                try split(
                    op, views, offsets: views.indices.map { offsets[$0] + start * strides[$0].first! }, shape: rest,
                    strides: strides.map { $0.dropFirst() }, body)
                start += 1
                continue
            }
            var runShape = Array(rest)
            runShape.insert(end - start, at: 0)
            let pieces = views.indices.map {
                Self.located(
                    views[$0], offset: offsets[$0] + start * strides[$0].first!, shape: runShape[...], strides: strides[$0])
            }
            guard pieces.allSatisfy({ $0 != nil }) else {
                throw refusal(op, views.first { $0.buffer.isSegmented }!.buffer, "a piece straddles segments")
            }
            try body(pieces.map { $0! })
            start = end
        }
    }
}
