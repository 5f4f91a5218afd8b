/// The compile-time shape of the attention kernels for one head size: the `-D` options of
/// `Kernels/attention.cl`.
package struct AttentionTiles: Hashable, Sendable {
    /// Elements per query, key and value row.
    package let headSize: Int
    /// Accumulator vector width: the parameters' width, narrowed to a divisor of the head size.
    package let vectorWidth: Int
    /// Scores per vector.
    package let chunk: Int
    /// Forward: queries per work-group (its size).
    package let forwardQueries: Int
    /// Forward: keys per local-memory tile (a multiple of ``chunk``).
    package let forwardKeys: Int
    /// Backward: rows per work-group (its size).
    package let backwardOwn: Int
    /// Backward: rows per streamed tile (a multiple of ``chunk``).
    package let backwardStream: Int

    /// Local floats of the forward kernel: its queries (padded rows), keys (transposed), values, mask flags.
    package static func forwardFloats(headSize: Int, queries: Int, keys: Int) -> Int {
        queries * (headSize + 1) + 2 * keys * headSize + keys
    }

    /// Local floats of the larger backward kernel (`dk`, `dv`): two sets of own rows (padded), the
    /// streamed queries and output gradients in both layouts, and two scalars per streamed row.
    package static func backwardFloats(headSize: Int, own: Int, stream: Int) -> Int {
        2 * own * (headSize + 1) + 4 * stream * headSize + 2 * stream
    }

    /// Tiles from `parameters`, halved (streamed tiles first, down to one chunk) until the kernels'
    /// local memory fits `localBytes`; `nil` when even the smallest do not fit.
    package init?(headSize: Int, parameters: KernelParameters.Attention, localBytes: Int) {
        let chunk = parameters.chunk
        var width = parameters.vectorWidth
        while headSize % width != 0 { width /= 2 }
        let floats = localBytes / 4
        func roundUp(_ n: Int) -> Int { (n + chunk - 1) / chunk * chunk }
        func fit(_ own0: Int, _ stream0: Int, _ size: (Int, Int) -> Int) -> (Int, Int)? {
            var (own, stream) = (own0, roundUp(stream0))
            while size(own, stream) > floats {
                if stream > chunk { stream = roundUp(stream / 2) } else if own > 1 { own /= 2 } else { return nil }
            }
            return (own, stream)
        }
        guard let forward = fit(parameters.queryTile, parameters.keyTile, {
                  Self.forwardFloats(headSize: headSize, queries: $0, keys: $1) }),
              let backward = fit(parameters.backwardTile, parameters.backwardTile, {
                  Self.backwardFloats(headSize: headSize, own: $0, stream: $1) })
        else { return nil }
        (self.headSize, self.chunk, vectorWidth) = (headSize, chunk, width)
        (forwardQueries, forwardKeys) = forward
        (backwardOwn, backwardStream) = backward
    }

    /// The build options.
    package var options: String {
        "-DHEAD=\(headSize) -DVW=\(vectorWidth) -DCHUNK=\(chunk) -DFWD_Q=\(forwardQueries) -DFWD_K=\(forwardKeys) "
            + "-DBWD_OWN=\(backwardOwn) -DBWD_STREAM=\(backwardStream)"
    }
}

/// Fused attention on OpenCL (`Kernels/attention.cl`): the forward pass walks key tiles with an
/// online softmax and writes each output once; the backward pass recomputes the probabilities
/// from `logsumexp` in three kernels (`D = rowsum(dOut ∘ out)`, `dq` per query tile, `dk` and
/// `dv` per key tile), each output written by one work-item: no atomics. The kernels are built per
/// storage type: 16-bit operands are read into float as they are staged and rounded once when
/// written (before, they were widened into float32 copies: on the H200, bf16 attention took 0.074 ms
/// against float32's 0.048).
extension OpenCLBackend {
    /// The kernels' tiles for `geometry`, or an error for a head size they are not built for.
    private func attentionTiles(_ g: AttentionGeometry) throws -> AttentionTiles {
        let limits = parameters.attention
        guard g.headSize <= limits.maxHeadSize else {
            throw CortadoError.invalidArgument(
                "attention: head size \(g.headSize) exceeds the largest the OpenCL kernels are built for on \(device) "
                    + "(\(limits.maxHeadSize), KernelParameters.attention.maxHeadSize); run this layer on the CPU")
        }
        try checkIndexable(g.pairs * max(g.queries, g.keys) * g.headSize)
        let localBytes = min(info.localMemoryBytes ?? 32768, 49152)
        guard let tiles = AttentionTiles(headSize: g.headSize, parameters: limits, localBytes: localBytes) else {
            throw CortadoError.invalidArgument(
                "attention: head size \(g.headSize) needs more local memory than \(device) has (\(localBytes) bytes)")
        }
        return tiles
    }

    /// Whether the kernels take these operands as they are: `operands` all of one floating-point
    /// type, `floats` (when present) float32.
    private static func attentionStorage(_ operands: [DeviceBuffer], floats: [DeviceBuffer?]) -> Bool {
        guard let storage = operands.first?.dtype, storage.isFloatingPoint else { return false }
        return operands.allSatisfy { $0.dtype == storage } && floats.allSatisfy { $0 == nil || $0!.dtype == .float32 }
    }

    /// The mask argument pair: the buffer (any, when absent) and whether it is present.
    private func maskArguments(_ mask: DeviceBuffer?, fallback: DeviceBuffer) -> [KernelArgument] {
        [.buffer(mask ?? fallback), .int(mask == nil ? 0 : 1)]
    }

    /// A one-dimensional grid of one work-group per tile of `rows` rows per pair (the kernels
    /// split the group id into pair and tile).
    private func grid(_ rows: Int, tile: Int, _ g: AttentionGeometry) -> [Int] {
        [g.pairs * ((rows + tile - 1) / tile) * tile]
    }

    private func shapeArguments(_ g: AttentionGeometry) -> [KernelArgument] {
        [.int(g.heads), .int(g.queries), .int(g.keys), .float(g.scale), .int(g.sequenceMajor ? 1 : 0)]
    }

    /// One `attention_forward` launch: a work-group per query tile of each pair.
    package func attention(
        _ q: DeviceBuffer, _ k: DeviceBuffer, _ v: DeviceBuffer, keyMask: DeviceBuffer?, _ g: AttentionGeometry,
        into out: DeviceBuffer, logsumexp: DeviceBuffer
    ) throws {
        try refitting {
            // q, k, v and out in one storage type (16-bit ones read into float in the kernel); the
            // mask and logsumexp in float32. Anything else goes through float32 copies.
            guard Self.attentionStorage([q, k, v, out], floats: [keyMask, logsumexp]) else {
                return try widening([q, k, v, keyMask], into: [out, logsumexp]) { b in
                    try attention(b[0]!, b[1]!, b[2]!, keyMask: b[3], g, into: b[4]!, logsumexp: b[5]!)
                }
            }
            let tiles = try attentionTiles(g)
            try launch(.attention(tiles, q.dtype), "attention_forward", global: grid(g.queries, tile: tiles.forwardQueries, g),
                       local: [tiles.forwardQueries],
                       [.buffer(q), .buffer(k), .buffer(v)] + maskArguments(keyMask, fallback: q)
                       + [.buffer(out), .buffer(logsumexp)] + shapeArguments(g))
        }
    }

    /// `attention_backward_delta`, then `attention_backward_dq` per query tile and
    /// `attention_backward_dkdv` per key tile.
    package func attentionBackward(
        _ q: DeviceBuffer, _ k: DeviceBuffer, _ v: DeviceBuffer, keyMask: DeviceBuffer?, _ g: AttentionGeometry,
        out: DeviceBuffer, dOut: DeviceBuffer, logsumexp: DeviceBuffer, dq: DeviceBuffer, dk: DeviceBuffer, dv: DeviceBuffer
    ) throws {
        try refitting {
            guard Self.attentionStorage([q, k, v, out, dOut, dq, dk, dv], floats: [keyMask, logsumexp]) else {
                return try widening([q, k, v, keyMask, out, dOut, logsumexp], into: [dq, dk, dv]) { b in
                    try attentionBackward(b[0]!, b[1]!, b[2]!, keyMask: b[3], g, out: b[4]!, dOut: b[5]!, logsumexp: b[6]!,
                                          dq: b[7]!, dk: b[8]!, dv: b[9]!)
                }
            }
            let tiles = try attentionTiles(g)
            let rows = g.pairs * g.queries
            let delta = try allocator.allocate(count: max(rows, 1), dtype: .float32)
            let family = KernelFamily.attention(tiles, q.dtype)
            try launch(family, "attention_backward_delta", global: [rows], local: [parameters.elementwiseWorkGroup],
                       [.buffer(out), .buffer(dOut), .buffer(delta), .int(rows), .int(g.heads), .int(g.queries),
                        .int(g.sequenceMajor ? 1 : 0)])
            let common: [KernelArgument] = [.buffer(q), .buffer(k), .buffer(v)] + maskArguments(keyMask, fallback: q)
                + [.buffer(dOut), .buffer(logsumexp), .buffer(delta)]
            try launch(family, "attention_backward_dq", global: grid(g.queries, tile: tiles.backwardOwn, g),
                       local: [tiles.backwardOwn],
                       common + [.buffer(dq)] + shapeArguments(g))
            try launch(family, "attention_backward_dkdv", global: grid(g.keys, tile: tiles.backwardOwn, g),
                       local: [tiles.backwardOwn],
                       common + [.buffer(dk), .buffer(dv)] + shapeArguments(g))
        }
    }
}
