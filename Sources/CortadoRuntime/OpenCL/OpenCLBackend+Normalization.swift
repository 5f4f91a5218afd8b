/// LayerNorm on OpenCL (`Kernels/normalization.cl`): one kernel per row pass, and a two-stage
/// deterministic sum for the weight and bias gradients.
extension OpenCLBackend {
    /// Work-items per row: the largest power of two not above the row's vectors, the items per row
    /// or the work-group size.
    private func lanes(width: Int) -> Int {
        let p = parameters.normalization
        let limit = min(max(width / p.vectorWidth, 1), p.itemsPerRow, p.workGroup)
        var lanes = 1
        while lanes * 2 <= limit { lanes *= 2 }
        return lanes
    }

    /// The launch grid of a row kernel over `rows` rows of `width`.
    private func rowGrid(rows: Int, width: Int) -> (global: [Int], local: [Int], lanes: Int) {
        let group = parameters.normalization.workGroup
        let lanes = lanes(width: width)
        let rowsPerGroup = group / lanes
        return ([(rows + rowsPerGroup - 1) / rowsPerGroup * group], [group], lanes)
    }

    /// One `layer_norm_forward` launch over groups of rows.
    package func layerNorm(
        _ x: DeviceBuffer, weight: DeviceBuffer?, bias: DeviceBuffer?, rows: Int, width: Int, epsilon: Float,
        into y: DeviceBuffer, mean: DeviceBuffer, rstd: DeviceBuffer
    ) throws {
        try refitting {
            if x.dtype.isHalf {
                return try widening([x, weight, bias], into: [y, mean, rstd]) { b in
                    try layerNorm(b[0]!, weight: b[1], bias: b[2], rows: rows, width: width, epsilon: epsilon,
                                  into: b[3]!, mean: b[4]!, rstd: b[5]!)
                }
            }
            try checkIndexable(rows * width)
            let grid = rowGrid(rows: rows, width: width)
            try launch(.normalization, "layer_norm_forward", global: grid.global, local: grid.local, [
                .buffer(x), .buffer(weight ?? x), .int(weight == nil ? 0 : 1), .buffer(bias ?? x), .int(bias == nil ? 0 : 1),
                .buffer(y), .buffer(mean), .buffer(rstd), .int(rows), .int(width), .int(grid.lanes), .float(epsilon),
            ])
        }
    }

    /// `layer_norm_backward_input`, then (for the weight and bias gradients) the block partials
    /// and their sum.
    package func layerNormBackward(
        _ x: DeviceBuffer, weight: DeviceBuffer?, mean: DeviceBuffer, rstd: DeviceBuffer, dy: DeviceBuffer,
        rows: Int, width: Int, dx: DeviceBuffer, dWeight: DeviceBuffer?, dBias: DeviceBuffer?
    ) throws {
        try refitting {
            if x.dtype.isHalf {
                return try widening([x, weight, mean, rstd, dy], into: [dx, dWeight, dBias]) { b in
                    try layerNormBackward(b[0]!, weight: b[1], mean: b[2]!, rstd: b[3]!, dy: b[4]!, rows: rows, width: width,
                                          dx: b[5]!, dWeight: b[6], dBias: b[7])
                }
            }
            try checkIndexable(rows * width)
            let grid = rowGrid(rows: rows, width: width)
            try launch(.normalization, "layer_norm_backward_input", global: grid.global, local: grid.local, [
                .buffer(x), .buffer(weight ?? x), .int(weight == nil ? 0 : 1), .buffer(mean), .buffer(rstd), .buffer(dy),
                .buffer(dx), .int(rows), .int(width), .int(grid.lanes),
            ])
            guard dWeight != nil || dBias != nil else { return }
            let rowsPerBlock = parameters.normalization.rowsPerBlock
            let blocks = (rows + rowsPerBlock - 1) / rowsPerBlock
            let partial = try allocator.allocate(count: max(2 * blocks * width, 1), dtype: .float32)
            let group = parameters.elementwiseWorkGroup
            let columnGroups = (width + parameters.normalization.vectorWidth - 1) / parameters.normalization.vectorWidth
            try launch(.normalization, "layer_norm_backward_partials", global: [columnGroups * blocks], local: [group], [
                .buffer(x), .buffer(mean), .buffer(rstd), .buffer(dy), .buffer(partial), .int(rows), .int(width),
                .int(rowsPerBlock), .int(blocks),
            ])
            try launch(.normalization, "layer_norm_backward_sum", global: [2 * width], local: [group], [
                .buffer(partial), .buffer(dWeight ?? partial), .int(dWeight == nil ? 0 : 1), .buffer(dBias ?? partial),
                .int(dBias == nil ? 0 : 1), .int(width), .int(blocks),
            ])
        }
    }
}
