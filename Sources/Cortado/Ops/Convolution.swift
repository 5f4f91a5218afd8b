/// A pair of extents (height, width) for kernel sizes, strides, padding and dilation; an integer
/// literal means the same value for both.
public struct Size2D: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// Along the height (y).
    public var height: Int
    /// Along the width (x).
    public var width: Int

    /// Height and width.
    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    /// The same value for both.
    public init(integerLiteral value: Int) {
        self.init(value, value)
    }

    /// `(height, width)`.
    public var description: String { "(\(height), \(width))" }
}

extension Tensor {
    /// 2-D convolution (cross-correlation, as PyTorch) of NCHW input with OIHW `weight`.
    ///
    /// Lowered to a batched GEMM over per-sample im2col column matrices, which writes the NCHW
    /// output directly (onto the broadcast bias); the backward pass computes the weight gradient
    /// with a GEMM summed over the batch and the input gradient with a batched GEMM and col2im.
    /// - Parameters:
    ///   - weight: `[outChannels, inChannels, kernelHeight, kernelWidth]`.
    ///   - bias: `[outChannels]`, added to every output position.
    public func conv2d(
        weight: Tensor, bias: Tensor? = nil, stride: Size2D = 1, padding: Size2D = 0, dilation: Size2D = 1
    ) throws -> Tensor {
        try checkSameDevice("conv2d", weight)
        if let bias { try checkSameDevice("conv2d", bias) }
        try requireSupport(.im2col, "conv2d", weight, bias)
        try requireSupport(.gemm, "conv2d")
        guard rank == 4, weight.rank == 4, weight.shape[1] == shape[1] else {
            throw CortadoError.shapeMismatch("conv2d: input \(shape) (NCHW) and weight \(weight.shape) (OIHW) do not match")
        }
        let outChannels = weight.shape[0]
        if let bias, bias.shape != [outChannels] {
            throw CortadoError.shapeMismatch("conv2d: bias \(bias.shape) for \(outChannels) output channels")
        }
        guard stride.height > 0, stride.width > 0, dilation.height > 0, dilation.width > 0,
              padding.height >= 0, padding.width >= 0
        else {
            throw CortadoError.invalidArgument("conv2d: stride \(stride), padding \(padding), dilation \(dilation)")
        }
        let g = ConvGeometry(
            batch: shape[0], channels: shape[1], height: shape[2], width: shape[3],
            kernelHeight: weight.shape[2], kernelWidth: weight.shape[3], strideY: stride.height, strideX: stride.width,
            padY: padding.height, padX: padding.width, dilationY: dilation.height, dilationX: dilation.width)
        let spanY = dilation.height * (g.kernelHeight - 1) + 1, spanX = dilation.width * (g.kernelWidth - 1) + 1
        guard g.height + 2 * g.padY >= spanY, g.width + 2 * g.padX >= spanX, g.outHeight > 0, g.outWidth > 0 else {
            throw CortadoError.shapeMismatch("conv2d: kernel \(weight.shape.suffix(2)) does not fit input \(shape) with padding \(padding)")
        }
        let x = try dense(), w = try weight.dense()
        let (plane, patch) = (g.outputPlane, g.patchSize)

        let cols = try Tensor.empty([g.batch, patch, plane], dtype: dtype, on: backend)
        try backend.im2col(x.buffer, g, into: cols.buffer)
        let out = try Tensor.empty([g.batch, outChannels, g.outHeight, g.outWidth], dtype: dtype, on: backend)
        if let bias {
            // The output starts as the broadcast bias; the GEMM accumulates onto it.
            let b = try bias.dense()
            try backend.copy(StridedView(buffer: b.buffer, shape: [g.batch, outChannels, plane], strides: [0, 1, 0]),
                             to: StridedView(contiguous: out.buffer, shape: [g.batch, outChannels, plane]))
        }
        try backend.gemm(
            GemmDescriptor(batch: g.batch, m: outChannels, n: plane, k: patch, beta: bias == nil ? 0 : 1),
            MatrixOperand(buffer: w.buffer, offset: 0, rowStride: patch, columnStride: 1, batchStride: 0),
            MatrixOperand(buffer: cols.buffer, offset: 0, rowStride: plane, columnStride: 1, batchStride: patch * plane),
            MatrixOperand(buffer: out.buffer, offset: 0, rowStride: plane, columnStride: 1, batchStride: outChannels * plane))

        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        let needs = inputs.map(\.requiresGrad)
        let inputShape = x.shape  // the backward pass needs the input's shape, not its values
        return out.recordingGradient("conv2d", inputs) { gradient in
            let backend = w.backend
            let dy = try gradient.dense()
            let dyMatrices = MatrixOperand(buffer: dy.buffer, offset: 0, rowStride: plane, columnStride: 1,
                                           batchStride: outChannels * plane)
            var grads: [Tensor?] = [nil, nil]
            if needs[0] {
                // dcols[n] = Wᵀ · dy[n], then folded back onto the input.
                // float32 whatever the type: col2im sums up to kernelHeight·kernelWidth of them.
                let dcols = try Tensor.empty([g.batch, patch, plane], dtype: .float32, on: backend)
                try backend.gemm(
                    GemmDescriptor(batch: g.batch, m: patch, n: plane, k: outChannels),
                    MatrixOperand(buffer: w.buffer, offset: 0, rowStride: 1, columnStride: patch, batchStride: 0),
                    dyMatrices,
                    MatrixOperand(buffer: dcols.buffer, offset: 0, rowStride: plane, columnStride: 1, batchStride: patch * plane))
                let dx = try Tensor.empty(inputShape, dtype: w.dtype, on: backend)
                try backend.col2im(dcols.buffer, g, into: dx.buffer)
                grads[0] = dx
            }
            if needs[1] {
                // dW = Σ_n dy[n] · cols[n]ᵀ
                let dw = try Tensor.empty(w.shape, dtype: w.dtype, on: backend)
                try backend.gemm(
                    GemmDescriptor(batch: g.batch, m: outChannels, n: patch, k: plane, reduceBatch: true),
                    dyMatrices,
                    MatrixOperand(buffer: cols.buffer, offset: 0, rowStride: 1, columnStride: plane, batchStride: patch * plane),
                    MatrixOperand(buffer: dw.buffer, offset: 0, rowStride: patch, columnStride: 1, batchStride: 0))
                grads[1] = dw
            }
            if needs.count == 3 {
                grads.append(needs[2] ? try dy.reshaped([g.batch, outChannels, plane]).sum(axes: [0, 2]) : nil)
            }
            return grads
        }
    }
}
