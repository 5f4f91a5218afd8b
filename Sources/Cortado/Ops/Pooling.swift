extension Tensor {
    /// 2-D max pooling of NCHW input; padding never wins. `stride` defaults to the kernel size.
    public func maxPool2d(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0) throws -> Tensor {
        let g = try poolGeometry("maxPool2d", kernelSize, stride ?? kernelSize, padding)
        let x = try dense()
        let outShape = [shape[0], shape[1], g.outHeight, g.outWidth]
        let out = try Tensor.empty(outShape, dtype: dtype, on: backend)
        let indices = try Tensor.empty(outShape, dtype: .int32, on: backend)
        try backend.maxPool(x.buffer, g, into: out.buffer, indices: indices.buffer)
        let inputShape = shape
        return out.recordingGradient("max_pool2d", [self]) { gradient in
            let dy = try gradient.dense()
            let dx = try Tensor.empty(inputShape, dtype: dy.dtype, on: dy.backend)
            try dy.backend.maxPoolBackward(dy.buffer, indices: indices.buffer, g, into: dx.buffer)
            return [dx]
        }
    }

    /// 2-D average pooling of NCHW input; padded positions count as zeros (PyTorch's default).
    public func avgPool2d(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0) throws -> Tensor {
        let g = try poolGeometry("avgPool2d", kernelSize, stride ?? kernelSize, padding)
        let x = try dense()
        let out = try Tensor.empty([shape[0], shape[1], g.outHeight, g.outWidth], dtype: dtype, on: backend)
        try backend.avgPool(x.buffer, g, into: out.buffer)
        let inputShape = shape
        return out.recordingGradient("avg_pool2d", [self]) { gradient in
            let dy = try gradient.dense()
            let dx = try Tensor.empty(inputShape, dtype: dy.dtype, on: dy.backend)
            try dy.backend.avgPoolBackward(dy.buffer, g, into: dx.buffer)
            return [dx]
        }
    }

    private func poolGeometry(_ op: String, _ kernel: Size2D, _ stride: Size2D, _ padding: Size2D) throws -> PoolGeometry {
        try requireSupport(.pooling, op)
        guard rank == 4 else { throw CortadoError.shapeMismatch("\(op) needs NCHW input, not \(shape)") }
        guard kernel.height > 0, kernel.width > 0, stride.height > 0, stride.width > 0,
              padding.height >= 0, padding.width >= 0,
              padding.height * 2 <= kernel.height, padding.width * 2 <= kernel.width
        else {
            throw CortadoError.invalidArgument(
                "\(op): kernel \(kernel), stride \(stride), padding \(padding) (padding may be at most half the kernel)")
        }
        let g = PoolGeometry(
            planes: shape[0] * shape[1], height: shape[2], width: shape[3], kernelHeight: kernel.height,
            kernelWidth: kernel.width, strideY: stride.height, strideX: stride.width, padY: padding.height,
            padX: padding.width)
        // (Swift's division truncates toward zero, so check the window fits before dividing.)
        guard shape[2] + 2 * padding.height >= kernel.height, shape[3] + 2 * padding.width >= kernel.width,
              g.outHeight > 0, g.outWidth > 0
        else {
            throw CortadoError.shapeMismatch("\(op): kernel \(kernel) does not fit input \(shape)")
        }
        return g
    }
}
