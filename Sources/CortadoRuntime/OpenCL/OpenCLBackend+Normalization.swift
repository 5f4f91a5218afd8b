/// LayerNorm on OpenCL (`Kernels/normalization.cl`): one kernel per row pass, and a two-stage
/// deterministic sum for the weight and bias gradients.
extension OpenCLBackend {
    /// Work-items per row: the largest power of two not above the row's vectors (of `vectorWidth`
    /// elements, by default LayerNorm's), the items per row or the work-group size.
    private func lanes(width: Int, vectorWidth: Int? = nil) -> Int {
        let p = parameters.normalization
        let limit = min(max(width / (vectorWidth ?? p.vectorWidth), 1), p.itemsPerRow, p.workGroup)
        var lanes = 1
        while lanes * 2 <= limit { lanes *= 2 }
        return lanes
    }

    /// The launch grid of a row kernel over `rows` rows of `width`.
    /// Also the grid of softmax's row kernels (`vectorWidth` 1): the same work-group size, so both
    /// families share the tuned `normalization` parameters.
    func rowGrid(rows: Int, width: Int, vectorWidth: Int? = nil) -> (global: [Int], local: [Int], lanes: Int) {
        let group = parameters.normalization.workGroup
        let lanes = lanes(width: width, vectorWidth: vectorWidth)
        let rowsPerGroup = group / lanes
        return ([(rows + rowsPerGroup - 1) / rowsPerGroup * group], [group], lanes)
    }

    /// One `layer_norm_forward` launch over groups of rows.
    package func layerNorm(
        _ x: DeviceBuffer, weight: DeviceBuffer?, bias: DeviceBuffer?, rows: Int, width: Int, epsilon: Float,
        into y: DeviceBuffer, mean: DeviceBuffer, rstd: DeviceBuffer
    ) throws {
        try refitting {
            try checkIndexable(rows * width)
            let grid = rowGrid(rows: rows, width: width)
            try launch(.normalization(x.dtype), "layer_norm_forward", global: grid.global, local: grid.local, [
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
            try checkIndexable(rows * width)
            let grid = rowGrid(rows: rows, width: width)
            try launch(.normalization(x.dtype), "layer_norm_backward_input", global: grid.global, local: grid.local, [
                .buffer(x), .buffer(weight ?? x), .int(weight == nil ? 0 : 1), .buffer(mean), .buffer(rstd), .buffer(dy),
                .buffer(dx), .int(rows), .int(width), .int(grid.lanes),
            ])
            guard dWeight != nil || dBias != nil else { return }
            let rowsPerBlock = parameters.normalization.rowsPerBlock
            let blocks = (rows + rowsPerBlock - 1) / rowsPerBlock
            let partial = try allocator.allocate(count: max(2 * blocks * width, 1), dtype: .float32)
            let group = parameters.elementwiseWorkGroup
            let columnGroups = (width + parameters.normalization.vectorWidth - 1) / parameters.normalization.vectorWidth
            try launch(.normalization(x.dtype), "layer_norm_backward_partials", global: [columnGroups * blocks], local: [group], [
                .buffer(x), .buffer(mean), .buffer(rstd), .buffer(dy), .buffer(partial), .int(rows), .int(width),
                .int(rowsPerBlock), .int(blocks),
            ])
            try launch(.normalization(x.dtype), "layer_norm_backward_sum", global: [2 * width], local: [group], [
                .buffer(partial), .buffer(dWeight ?? partial), .int(dWeight == nil ? 0 : 1), .buffer(dBias ?? partial),
                .int(dBias == nil ? 0 : 1), .int(width), .int(blocks),
            ])
        }
    }
}
