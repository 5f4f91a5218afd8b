extension OpenCLBackend {
    package func reduce(
        _ op: ReduceOp, _ x: DeviceBuffer, offset: Int, outer: Int, n: Int, inner: Int,
        scale: Float, into out: DeviceBuffer
    ) throws {
        try refitting {
            try checkIndexable(outer * n * inner)
            let group = parameters.reductionWorkGroup
            let elementwise = parameters.elementwiseWorkGroup
            if op == .argmax {
                if inner == 1 {
                    try launch(.reduce(x.dtype, x.dtype), "reduce_argmax_rows", global: [outer * group], local: [group], [
                        .buffer(x), .int(offset), .buffer(out), .int(n),
                    ])
                } else {
                    try launch(.reduce(x.dtype, x.dtype), "reduce_argmax_columns", global: [outer * inner], local: [elementwise], [
                        .buffer(x), .int(offset), .buffer(out), .int(outer), .int(n), .int(inner),
                    ])
                }
                return
            }
            let name = op.rawValue
            if inner > 1 {
                let blocks = (inner + parameters.columnBlock - 1) / parameters.columnBlock
                let local = parameters.columnBlock > 1 ? 1 : elementwise
                try launch(.reduce(x.dtype, out.dtype), "reduce_\(name)_columns", global: [outer * blocks], local: [local], [
                    .buffer(x), .int(offset), .buffer(out), .int(outer), .int(n), .int(inner), .float(scale),
                ])
                return
            }
            // Rows. Few long rows leave most of the device idle: split each row into chunks, reduce
            // the chunks, then reduce the partial results.
            let chunkLength = max(group * 64, 4096)
            let chunks = outer < 64 && n > 2 * chunkLength ? min((n + chunkLength - 1) / chunkLength, 256) : 1
            if chunks == 1 {
                try launch(.reduce(x.dtype, out.dtype), "reduce_\(name)_rows", global: [outer * group], local: [group], [
                    .buffer(x), .int(offset), .buffer(out), .int(n), .int(n), .int(1), .float(scale),
                ])
                return
            }
            let chunk = (n + chunks - 1) / chunks
            let partial = try allocator.allocate(count: outer * chunks, dtype: .float32)
            try launch(.reduce(x.dtype, .float32), "reduce_\(name)_rows", global: [outer * chunks * group], local: [group], [
                .buffer(x), .int(offset), .buffer(partial), .int(n), .int(chunk), .int(chunks), .float(1),
            ])
            try launch(.reduce(.float32, out.dtype), "reduce_\(name)_rows", global: [outer * group], local: [group], [
                .buffer(partial), .int(0), .buffer(out), .int(chunks), .int(chunks), .int(1), .float(scale),
            ])
        }
    }

    package func gather(
        _ x: DeviceBuffer, indices: DeviceBuffer, outer: Int, n: Int, inner: Int, into out: DeviceBuffer
    ) throws {
        if x.dtype.isHalf {
            return try widening([x, indices], into: [out]) { b in
                try gather(b[0]!, indices: b[1]!, outer: outer, n: n, inner: inner, into: b[2]!)
            }
        }
        try launch(.indexing(.float32), "gather_axis", global: [outer * inner], local: [parameters.elementwiseWorkGroup], [
            .buffer(x), .buffer(indices), .buffer(out), .int(outer), .int(n), .int(inner),
        ])
    }

    package func scatter(
        _ values: DeviceBuffer, indices: DeviceBuffer, outer: Int, n: Int, inner: Int, into out: DeviceBuffer
    ) throws {
        if values.dtype.isHalf {
            return try widening([values, indices], into: [out]) { b in
                try scatter(b[0]!, indices: b[1]!, outer: outer, n: n, inner: inner, into: b[2]!)
            }
        }
        try checkIndexable(outer * n * inner)
        try launch(.indexing(.float32), "scatter_axis", global: [outer * n * inner], local: [parameters.elementwiseWorkGroup], [
            .buffer(values), .buffer(indices), .buffer(out), .int(outer), .int(n), .int(inner),
        ])
    }

    /// A softmax row kernel and its grid: the `_vector` variant (aligned 16-byte accesses, lanes
    /// counted in vectors) when rows are a whole number of vectors, else the element one.
    private func softmaxRows(
        _ kernel: String, rows: Int, n: Int, _ storage: DType
    ) -> (kernel: String, grid: (global: [Int], local: [Int], lanes: Int)) {
        let width = parameters.contiguousVectorWidth(storage)
        if width > 1 && n % width == 0 {
            return (kernel + "_vector", rowGrid(rows: rows, width: n, vectorWidth: width))
        }
        return (kernel, rowGrid(rows: rows, width: n, vectorWidth: 1))
    }

    /// Softmax or log-softmax along `n` of `x[outer, n, inner]`, in `x`'s storage type: rows
    /// (`inner == 1`) that several work-items share (GPUs) by `softmax_rows_forward`; anything else
    /// one work-item per `(outer, inner)`, which CPU devices vectorise across rows (the row kernel's
    /// barriers took them 1.7x longer).
    package func softmax(
        _ x: DeviceBuffer, outer: Int, n: Int, inner: Int, log: Bool, into out: DeviceBuffer
    ) throws {
        try checkIndexable(outer * n * inner)
        if inner == 1, rowGrid(rows: outer, width: n, vectorWidth: 1).lanes > 1 {
            return try refitting {
                let (kernel, grid) = softmaxRows("softmax_rows_forward", rows: outer, n: n, x.dtype)
                try launch(.softmax(x.dtype), kernel, global: grid.global, local: grid.local, [
                    .buffer(x), .buffer(out), .int(outer), .int(n), .int(grid.lanes), .int(log ? 1 : 0),
                ])
            }
        }
        try launch(.softmax(x.dtype), "softmax_forward", global: [outer * inner], local: [parameters.elementwiseWorkGroup], [
            .buffer(x), .buffer(out), .int(outer), .int(n), .int(inner), .int(log ? 1 : 0),
        ])
    }

    /// The gradient of ``softmax(_:outer:n:inner:log:into:)`` from its output `y`, laid out alike.
    package func softmaxBackward(
        _ y: DeviceBuffer, _ dy: DeviceBuffer, outer: Int, n: Int, inner: Int, log: Bool, into dx: DeviceBuffer
    ) throws {
        try checkIndexable(outer * n * inner)
        if inner == 1, rowGrid(rows: outer, width: n, vectorWidth: 1).lanes > 1 {
            return try refitting {
                let (kernel, grid) = softmaxRows("softmax_rows_backward", rows: outer, n: n, y.dtype)
                try launch(.softmax(y.dtype), kernel, global: grid.global, local: grid.local, [
                    .buffer(y), .buffer(dy), .buffer(dx), .int(outer), .int(n), .int(grid.lanes), .int(log ? 1 : 0),
                ])
            }
        }
        try launch(.softmax(y.dtype), "softmax_backward", global: [outer * inner], local: [parameters.elementwiseWorkGroup], [
            .buffer(y), .buffer(dy), .buffer(dx), .int(outer), .int(n), .int(inner), .int(log ? 1 : 0),
        ])
    }
}
