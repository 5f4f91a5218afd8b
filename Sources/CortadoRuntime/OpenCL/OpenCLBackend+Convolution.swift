extension OpenCLBackend {
    /// The convolution geometry as the `int16` that `conv.cl` unpacks.
    private func packed(_ g: ConvGeometry) -> [Int32] {
        [g.batch, g.channels, g.height, g.width, g.kernelHeight, g.kernelWidth, g.strideY, g.strideX,
         g.padY, g.padX, g.dilationY, g.dilationX, g.outHeight, g.outWidth, 0, 0].map { Int32($0) }
    }

    /// The pooling geometry as the `int16` that `pool.cl` unpacks.
    private func packed(_ g: PoolGeometry) -> [Int32] {
        [g.planes, g.height, g.width, g.kernelHeight, g.kernelWidth, g.strideY, g.strideX, g.padY, g.padX,
         g.outHeight, g.outWidth, 0, 0, 0, 0, 0].map { Int32($0) }
    }

    /// A 2-D work-group shape for a range whose first dimension is an image row of `width`.
    private func rowGroup(_ width: Int) -> [Int] {
        let group = parameters.elementwiseWorkGroup
        var x = 1
        while x < width && x < group { x *= 2 }
        return [x, group / x, 1]
    }

    /// Whether kernels that support it loop over whole rows per work-item (CPU-type devices).
    private var rowsPerItem: Bool { parameters.stridedMapping == .rowPerWorkItem }

    package func im2col(_ x: DeviceBuffer, _ g: ConvGeometry, into cols: DeviceBuffer) throws {
        try checkIndexable(g.batch * g.patchSize * g.outputPlane)
        let (global0, local) = rowsPerItem ? (1, [1, 1, 1]) : (g.outWidth, rowGroup(g.outWidth))
        try launch(.conv(x.dtype, cols.dtype), "im2col", global: [global0, g.outHeight, g.batch * g.patchSize], local: local, [
            .buffer(x), .buffer(cols), .ints(packed(g)),
        ])
    }

    package func col2im(_ cols: DeviceBuffer, _ g: ConvGeometry, into x: DeviceBuffer) throws {
        try checkIndexable(g.batch * g.channels * g.height * g.width)
        try launch(.conv(cols.dtype, x.dtype), "col2im", global: [g.width, g.height, g.batch * g.channels], local: rowGroup(g.width), [
            .buffer(cols), .buffer(x), .ints(packed(g)),
        ])
    }

    package func maxPool(
        _ x: DeviceBuffer, _ geometry: PoolGeometry, into y: DeviceBuffer, indices: DeviceBuffer
    ) throws {
        let g = geometry
        if g.kernelHeight == 2, g.kernelWidth == 2, g.strideY == 2, g.strideX == 2, g.padY == 0, g.padX == 0 {
            let group = parameters.elementwiseWorkGroup
            if parameters.stridedMapping == .rowPerWorkItem {
                try launch(.pool(x.dtype), "max_pool_2x2_forward_rows", global: [g.planes * g.outHeight], local: [group], [
                    .buffer(x), .buffer(y), .buffer(indices), .ints(packed(g)),
                ])
                return
            }
            try launch(.pool(x.dtype), "max_pool_2x2_forward", global: [g.outWidth, g.planes * g.outHeight],
                       local: [min(group, 16), group / min(group, 16)], [
                .buffer(x), .buffer(y), .buffer(indices), .ints(packed(g)),
            ])
            return
        }
        let total = g.planes * g.outHeight * g.outWidth
        try launch(.pool(x.dtype), "max_pool_forward", global: [total], local: [parameters.elementwiseWorkGroup], [
            .buffer(x), .buffer(y), .buffer(indices), .ints(packed(g)),
        ])
    }

    package func maxPoolBackward(
        _ dy: DeviceBuffer, indices: DeviceBuffer, _ geometry: PoolGeometry, into dx: DeviceBuffer
    ) throws {
        let g = geometry
        if g.kernelHeight == 2, g.kernelWidth == 2, g.strideY == 2, g.strideX == 2, g.padY == 0, g.padX == 0,
           parameters.stridedMapping == .rowPerWorkItem {
            try launch(.pool(dy.dtype), "max_pool_2x2_backward_rows", global: [g.planes * g.outHeight],
                       local: [parameters.elementwiseWorkGroup], [
                .buffer(dy), .buffer(indices), .buffer(dx), .ints(packed(g)),
            ])
            return
        }
        if g.strideY >= g.kernelHeight && g.strideX >= g.kernelWidth {
            // Disjoint windows: zero dx, then scatter each output's gradient to its argmax.
            try fill(dx, offset: 0, count: g.planes * g.height * g.width, value: 0)
            try launch(.pool(dy.dtype), "max_pool_backward_scatter", global: [g.planes * g.outHeight * g.outWidth],
                       local: [parameters.elementwiseWorkGroup], [
                .buffer(dy), .buffer(indices), .buffer(dx), .ints(packed(g)),
            ])
            return
        }
        let total = g.planes * g.height * g.width
        try launch(.pool(dy.dtype), "max_pool_backward", global: [total], local: [parameters.elementwiseWorkGroup], [
            .buffer(dy), .buffer(indices), .buffer(dx), .ints(packed(g)),
        ])
    }

    package func avgPool(_ x: DeviceBuffer, _ geometry: PoolGeometry, into y: DeviceBuffer) throws {
        let total = geometry.planes * geometry.outHeight * geometry.outWidth
        try launch(.pool(x.dtype), "avg_pool_forward", global: [total], local: [parameters.elementwiseWorkGroup], [
            .buffer(x), .buffer(y), .ints(packed(geometry)),
        ])
    }

    package func avgPoolBackward(_ dy: DeviceBuffer, _ geometry: PoolGeometry, into dx: DeviceBuffer) throws {
        let total = geometry.planes * geometry.height * geometry.width
        try launch(.pool(dy.dtype), "avg_pool_backward", global: [total], local: [parameters.elementwiseWorkGroup], [
            .buffer(dy), .buffer(dx), .ints(packed(geometry)),
        ])
    }
}
