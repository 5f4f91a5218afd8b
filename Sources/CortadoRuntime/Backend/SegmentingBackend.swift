/// The layer in front of every device's backend that takes apart buffers stored in segments
/// (tensors larger than the device's allocation cap, see ``CachingAllocator/allocateTensor(count:dtype:rowLength:)``).
///
/// An operation whose operands are all ordinary buffers goes straight to the device's backend
/// after a check of each operand (no allocation, no wait). One that meets a segmented buffer runs
/// as calls of the device's backend on the segments: reads, writes, fills and random draws by
/// element range; elementwise ops and copies by pieces of the views that each lie in one segment;
/// optimizer updates segment by segment; embedding gathers and scatter-adds per segment of rows;
/// matrix products on blocks of rows (k-blocks accumulated); reductions on blocks that each lie in
/// one segment. Every other operation throws ``CortadoError/segmentedOperand(op:bytes:device:cap:detail:)``,
/// so the device's backend never sees a segmented buffer.
final class SegmentingBackend: Backend, @unchecked Sendable {
    /// The device's backend.
    let base: any Backend
    var device: Device { base.device }
    var allocator: CachingAllocator { base.allocator }

    init(_ base: any Backend) {
        self.base = base
    }

    func supports(_ operation: BackendOperation, _ dtype: DType) -> Bool { base.supports(operation, dtype) }

    /// The error for `op` meeting the segmented `buffer`.
    func refusal(_ op: String, _ buffer: DeviceBuffer, _ detail: String = "") -> CortadoError {
        .segmentedOperand(op: op, bytes: buffer.byteCount, device: device.id, cap: allocator.cap, detail: detail)
    }

    /// Throws for the first segmented buffer of `buffers`: `op` cannot take it apart.
    func refuseSegmented(_ op: String, _ buffers: [DeviceBuffer?]) throws {
        for case let buffer? in buffers where buffer.isSegmented { throw refusal(op, buffer) }
    }

    // MARK: Reads, writes, fills and random draws: by element range

    /// Calls `body(segment, byte range in the whole)` for each segment of `buffer` overlapping `bytes`.
    private func forEachSegment(
        of buffer: DeviceBuffer, bytes: Range<Int>, _ body: (DeviceBuffer, Range<Int>, Int) throws -> Void
    ) throws {
        guard let segments = buffer.segments else { return }
        let width = buffer.dtype.byteSize
        for (index, segment) in segments.buffers.enumerated() {
            let range = segments.range(index)
            let overlap = bytes.clamped(to: (range.lowerBound * width)..<(range.upperBound * width))
            if !overlap.isEmpty { try body(segment, overlap, range.lowerBound * width) }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer, to buffer: DeviceBuffer, atByte: Int) throws {
        guard buffer.isSegmented else { return try base.write(bytes, to: buffer, atByte: atByte) }
        try forEachSegment(of: buffer, bytes: atByte..<(atByte + bytes.count)) { segment, range, start in
            try base.write(
                UnsafeRawBufferPointer(rebasing: bytes[(range.lowerBound - atByte)..<(range.upperBound - atByte)]),
                to: segment, atByte: range.lowerBound - start)
        }
    }

    func read(_ buffer: DeviceBuffer, atByte: Int, into bytes: UnsafeMutableRawBufferPointer) throws {
        guard buffer.isSegmented else { return try base.read(buffer, atByte: atByte, into: bytes) }
        try forEachSegment(of: buffer, bytes: atByte..<(atByte + bytes.count)) { segment, range, start in
            try base.read(
                segment, atByte: range.lowerBound - start,
                into: UnsafeMutableRawBufferPointer(rebasing: bytes[(range.lowerBound - atByte)..<(range.upperBound - atByte)]))
        }
    }

    func makeHostStaging(bytes: Int) throws -> HostStaging { try base.makeHostStaging(bytes: bytes) }

    func synchronize() throws {
        try base.synchronize()
    }

    /// Calls `body(segment, first element in the segment, count, first element in the whole)` for
    /// each segment of `buffer` overlapping elements `offset ..< offset + count`.
    private func forEachSegment(
        of buffer: DeviceBuffer, offset: Int, count: Int, _ body: (DeviceBuffer, Int, Int, Int) throws -> Void
    ) throws {
        guard let segments = buffer.segments else { return }
        for (index, segment) in segments.buffers.enumerated() {
            let range = segments.range(index)
            let overlap = (offset..<(offset + count)).clamped(to: range)
            if !overlap.isEmpty {
                try body(segment, overlap.lowerBound - range.lowerBound, overlap.count, overlap.lowerBound)
            }
        }
    }

    func fill(_ buffer: DeviceBuffer, offset: Int, count: Int, value: Double) throws {
        guard buffer.isSegmented else { return try base.fill(buffer, offset: offset, count: count, value: value) }
        try forEachSegment(of: buffer, offset: offset, count: count) { segment, start, count, _ in
            try base.fill(segment, offset: start, count: count, value: value)
        }
    }

    func random(
        _ distribution: Distribution, seed: UInt64, counter: UInt64, into buffer: DeviceBuffer, offset: Int, count: Int
    ) throws {
        guard buffer.isSegmented else {
            return try base.random(distribution, seed: seed, counter: counter, into: buffer, offset: offset, count: count)
        }
        try forEachSegment(of: buffer, offset: offset, count: count) { segment, start, pieceCount, first in
            // Element i of the draw comes from Philox block `counter + blocks(for: i)`; a piece must
            // start on a block (segments are multiples of 4 elements long).
            let skipped = first - offset
            guard skipped % distribution.valuesPerBlock == 0 else {
                throw refusal("random", buffer, "the draw starts inside a Philox block of a segment")
            }
            try base.random(
                distribution, seed: seed, counter: counter &+ UInt64(skipped / distribution.valuesPerBlock), into: segment,
                offset: start, count: pieceCount)
        }
    }

    // MARK: Optimizer updates: segment by segment

    func update(_ rule: UpdateRule, parameter: DeviceBuffer, gradient: DeviceBuffer, state: [DeviceBuffer], count: Int) throws {
        let operands = [parameter, gradient] + state
        guard let segments = operands.lazy.compactMap(\.segments).first else {
            return try base.update(rule, parameter: parameter, gradient: gradient, state: state, count: count)
        }
        // The parameter, its gradient and its state have one shape, so one segmentation.
        for operand in operands {
            guard let other = operand.segments, other.length == segments.length,
                  other.buffers.count == segments.buffers.count
            else {
                throw refusal("optimizer update", operand, "its parameter, gradient and state are not split alike")
            }
        }
        for index in segments.buffers.indices {
            let piece = segments.range(index).clamped(to: 0..<count).count
            guard piece > 0 else { break }
            try base.update(
                rule, parameter: parameter.segments!.buffers[index], gradient: gradient.segments!.buffers[index],
                state: state.map { $0.segments!.buffers[index] }, count: piece)
        }
    }

    // MARK: Embedding rows: each segment of rows takes its own indices

    /// The rows per segment of a `[rows, width]` table stored in `segments`.
    private func rowsPerSegment(_ op: String, _ buffer: DeviceBuffer, width: Int) throws -> Int {
        guard let segments = buffer.segments, width > 0, segments.length % width == 0 else {
            throw refusal(op, buffer, "its segments do not hold whole rows of \(width)")
        }
        return segments.length / width
    }

    /// The blocks of a `[count, width]` operand (its segments, or itself), each with the ids of
    /// its rows copied into a buffer of their own (from `indices`, segmented or not).
    private func idBlocks(
        _ op: String, _ operand: DeviceBuffer, indices: DeviceBuffer, count: Int, width: Int
    ) throws -> [(block: DeviceBuffer, ids: DeviceBuffer, count: Int)] {
        if operand.isSegmented { _ = try rowsPerSegment(op, operand, width: width) }
        var first = 0
        var blocks: [(block: DeviceBuffer, ids: DeviceBuffer, count: Int)] = []
        for block in operand.segments?.buffers ?? [operand] {
            let rows = Swift.min(block.count / width, count - first)
            guard rows > 0 else { break }
            let ids = try allocator.allocate(count: rows, dtype: .int32)
            try copy(StridedView(contiguous: indices, offset: first, shape: [rows]), to: StridedView(contiguous: ids, shape: [rows]))
            blocks.append((block, ids, rows))
            first += rows
        }
        return blocks
    }

    /// The parts of a table written by a row op: its segments (or itself), each with its first row
    /// in the whole and its row count.
    private func rowTargets(_ op: String, _ table: DeviceBuffer, tableRows: Int, width: Int) throws -> [(buffer: DeviceBuffer, first: Int, rows: Int)] {
        guard let segments = table.segments else { return [(table, 0, tableRows)] }
        let rows = try rowsPerSegment(op, table, width: width)
        return segments.buffers.enumerated().compactMap { index, segment in
            let first = index * rows
            return first < tableRows ? (segment, first, Swift.min(segment.count / width, tableRows - first)) : nil
        }
    }

    func gatherRows(
        _ table: DeviceBuffer, firstRow: Int, tableRows: Int, indices: DeviceBuffer, count: Int, width: Int,
        into out: DeviceBuffer, keepingOthers: Bool
    ) throws {
        guard table.isSegmented || indices.isSegmented || out.isSegmented else {
            return try base.gatherRows(
                table, firstRow: firstRow, tableRows: tableRows, indices: indices, count: count, width: width, into: out,
                keepingOthers: keepingOthers)
        }
        if out.isSegmented || indices.isSegmented {
            // Each block of output rows gathers with its own ids.
            for (block, ids, rows) in try idBlocks("gatherRows", out, indices: indices, count: count, width: width) {
                try gatherRows(
                    table, firstRow: firstRow, tableRows: tableRows, indices: ids, count: rows, width: width, into: block,
                    keepingOthers: keepingOthers)
            }
            return
        }
        // The first segment writes every output row (its own, or zeros); the others only theirs.
        for (index, target) in try rowTargets("gatherRows", table, tableRows: tableRows, width: width).enumerated() {
            try base.gatherRows(
                target.buffer, firstRow: firstRow + target.first, tableRows: target.rows, indices: indices, count: count,
                width: width, into: out, keepingOthers: keepingOthers || index > 0)
        }
    }

    func scatterAddRows(
        _ values: DeviceBuffer, indices: DeviceBuffer, count: Int, width: Int, firstRow: Int, tableRows: Int,
        into out: DeviceBuffer
    ) throws {
        guard values.isSegmented || indices.isSegmented || out.isSegmented else {
            return try base.scatterAddRows(
                values, indices: indices, count: count, width: width, firstRow: firstRow, tableRows: tableRows, into: out)
        }
        let blocks = values.isSegmented || indices.isSegmented
            ? try idBlocks("scatterAddRows", values, indices: indices, count: count, width: width)
            : [(values, indices, count)]
        // Each segment of the table takes the ids in its range; the sums of later blocks of values
        // go through a scratch segment and are added.
        for target in try rowTargets("scatterAddRows", out, tableRows: tableRows, width: width) {
            let whole = StridedView(contiguous: target.buffer, shape: [target.rows * width])
            var scratch: DeviceBuffer?
            for (index, (block, ids, rows)) in blocks.enumerated() {
                let into = index == 0 ? target.buffer : try scratch ?? allocator.allocate(count: target.rows * width, dtype: out.dtype)
                try base.scatterAddRows(
                    block, indices: ids, count: rows, width: width, firstRow: firstRow + target.first, tableRows: target.rows,
                    into: into)
                if index > 0 {
                    scratch = into
                    try base.binary(.add, whole, StridedView(contiguous: into, shape: [target.rows * width]), into: whole)
                }
            }
        }
    }

    // MARK: Operations that do not take segments apart

    func gather(_ x: DeviceBuffer, indices: DeviceBuffer, outer: Int, n: Int, inner: Int, into out: DeviceBuffer) throws {
        try refuseSegmented("gather", [x, indices, out])
        try base.gather(x, indices: indices, outer: outer, n: n, inner: inner, into: out)
    }

    func scatter(_ values: DeviceBuffer, indices: DeviceBuffer, outer: Int, n: Int, inner: Int, into out: DeviceBuffer) throws {
        try refuseSegmented("scatter", [values, indices, out])
        try base.scatter(values, indices: indices, outer: outer, n: n, inner: inner, into: out)
    }

    func softmax(_ x: DeviceBuffer, outer: Int, n: Int, inner: Int, log: Bool, into out: DeviceBuffer) throws {
        try refuseSegmented("softmax", [x, out])
        try base.softmax(x, outer: outer, n: n, inner: inner, log: log, into: out)
    }

    func softmaxBackward(_ y: DeviceBuffer, _ dy: DeviceBuffer, outer: Int, n: Int, inner: Int, log: Bool, into dx: DeviceBuffer) throws {
        try refuseSegmented("softmax backward", [y, dy, dx])
        try base.softmaxBackward(y, dy, outer: outer, n: n, inner: inner, log: log, into: dx)
    }

    func layerNorm(_ x: DeviceBuffer, weight: DeviceBuffer?, bias: DeviceBuffer?, rows: Int, width: Int, epsilon: Float, into y: DeviceBuffer, mean: DeviceBuffer, rstd: DeviceBuffer) throws {
        try refuseSegmented("layerNorm", [x, weight, bias, y, mean, rstd])
        try base.layerNorm(x, weight: weight, bias: bias, rows: rows, width: width, epsilon: epsilon, into: y, mean: mean, rstd: rstd)
    }

    func layerNormBackward(_ x: DeviceBuffer, weight: DeviceBuffer?, mean: DeviceBuffer, rstd: DeviceBuffer, dy: DeviceBuffer, rows: Int, width: Int, dx: DeviceBuffer, dWeight: DeviceBuffer?, dBias: DeviceBuffer?) throws {
        try refuseSegmented("layerNorm backward", [x, weight, mean, rstd, dy, dx, dWeight, dBias])
        try base.layerNormBackward(x, weight: weight, mean: mean, rstd: rstd, dy: dy, rows: rows, width: width, dx: dx, dWeight: dWeight, dBias: dBias)
    }

    func attention(_ q: DeviceBuffer, _ k: DeviceBuffer, _ v: DeviceBuffer, keyMask: DeviceBuffer?, _ geometry: AttentionGeometry, into out: DeviceBuffer, logsumexp: DeviceBuffer) throws {
        try refuseSegmented("attention", [q, k, v, keyMask, out, logsumexp])
        try base.attention(q, k, v, keyMask: keyMask, geometry, into: out, logsumexp: logsumexp)
    }

    func attentionBackward(_ q: DeviceBuffer, _ k: DeviceBuffer, _ v: DeviceBuffer, keyMask: DeviceBuffer?, _ geometry: AttentionGeometry, out: DeviceBuffer, dOut: DeviceBuffer, logsumexp: DeviceBuffer, dq: DeviceBuffer, dk: DeviceBuffer, dv: DeviceBuffer) throws {
        try refuseSegmented("attention backward", [q, k, v, keyMask, out, dOut, logsumexp, dq, dk, dv])
        try base.attentionBackward(q, k, v, keyMask: keyMask, geometry, out: out, dOut: dOut, logsumexp: logsumexp, dq: dq, dk: dk, dv: dv)
    }

    func im2col(_ x: DeviceBuffer, _ geometry: ConvGeometry, into cols: DeviceBuffer) throws {
        try refuseSegmented("im2col (convolution)", [x, cols])
        try base.im2col(x, geometry, into: cols)
    }

    func col2im(_ cols: DeviceBuffer, _ geometry: ConvGeometry, into x: DeviceBuffer) throws {
        try refuseSegmented("col2im (convolution backward)", [cols, x])
        try base.col2im(cols, geometry, into: x)
    }

    func maxPool(_ x: DeviceBuffer, _ geometry: PoolGeometry, into y: DeviceBuffer, indices: DeviceBuffer) throws {
        try refuseSegmented("maxPool", [x, y, indices])
        try base.maxPool(x, geometry, into: y, indices: indices)
    }

    func maxPoolBackward(_ dy: DeviceBuffer, indices: DeviceBuffer, _ geometry: PoolGeometry, into dx: DeviceBuffer) throws {
        try refuseSegmented("maxPool backward", [dy, indices, dx])
        try base.maxPoolBackward(dy, indices: indices, geometry, into: dx)
    }

    func avgPool(_ x: DeviceBuffer, _ geometry: PoolGeometry, into y: DeviceBuffer) throws {
        try refuseSegmented("avgPool", [x, y])
        try base.avgPool(x, geometry, into: y)
    }

    func avgPoolBackward(_ dy: DeviceBuffer, _ geometry: PoolGeometry, into dx: DeviceBuffer) throws {
        try refuseSegmented("avgPool backward", [dy, dx])
        try base.avgPoolBackward(dy, geometry, into: dx)
    }

    func crossEntropy(_ logits: DeviceBuffer, labels: DeviceBuffer, rows: Int, classes: Int, losses: DeviceBuffer, probabilities: DeviceBuffer) throws {
        try refuseSegmented("crossEntropy", [logits, labels, losses, probabilities])
        try base.crossEntropy(logits, labels: labels, rows: rows, classes: classes, losses: losses, probabilities: probabilities)
    }

    func crossEntropyBackward(_ probabilities: DeviceBuffer, labels: DeviceBuffer, dloss: DeviceBuffer, rows: Int, classes: Int, into dlogits: DeviceBuffer) throws {
        try refuseSegmented("crossEntropy backward", [probabilities, labels, dloss, dlogits])
        try base.crossEntropyBackward(probabilities, labels: labels, dloss: dloss, rows: rows, classes: classes, into: dlogits)
    }

    func recurrentForward(_ sequence: RecurrentSequence, outputs: DeviceBuffer) throws {
        try refuseSegmented("recurrent layer", sequence.inputs + sequence.histories + [sequence.saved, outputs])
        try base.recurrentForward(sequence, outputs: outputs)
    }

    func recurrentBackward(_ sequence: RecurrentSequence, dOutputs: DeviceBuffer, dGatesByStep: DeviceBuffer, dProjected: DeviceBuffer) throws {
        try refuseSegmented(
            "recurrent layer backward", sequence.inputs + sequence.histories + [sequence.saved, dOutputs, dGatesByStep, dProjected])
        try base.recurrentBackward(sequence, dOutputs: dOutputs, dGatesByStep: dGatesByStep, dProjected: dProjected)
    }

    func quantizedGemm(_ descriptor: QuantizedGemmDescriptor, _ a: DeviceBuffer, aScales: DeviceBuffer, _ w: DeviceBuffer, wScales: DeviceBuffer, bias: DeviceBuffer?, into out: DeviceBuffer) throws {
        try refuseSegmented("quantizedGemm", [a, aScales, w, wScales, bias, out])
        try base.quantizedGemm(descriptor, a, aScales: aScales, w, wScales: wScales, bias: bias, into: out)
    }

    func quantizeRows(
        _ x: DeviceBuffer, rows: Int, width: Int, block: Int, fixed: DeviceBuffer?, multipliers: DeviceBuffer?,
        into q: DeviceBuffer, scales: DeviceBuffer
    ) throws {
        try refuseSegmented("quantizeRows", [x, fixed, multipliers, q, scales])
        try base.quantizeRows(x, rows: rows, width: width, block: block, fixed: fixed, multipliers: multipliers, into: q, scales: scales)
    }
}
