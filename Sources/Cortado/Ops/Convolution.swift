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
    /// Lowered to one GEMM over an im2col column matrix for the whole batch; the backward pass
    /// computes the weight gradient and the input gradient (col2im) with two more GEMMs.
    /// - Parameters:
    ///   - weight: `[outChannels, inChannels, kernelHeight, kernelWidth]`.
    ///   - bias: `[outChannels]`, added to every output position.
    public func conv2d(
        weight: Tensor, bias: Tensor? = nil, stride: Size2D = 1, padding: Size2D = 0, dilation: Size2D = 1
    ) throws -> Tensor {
        try checkSameDevice("conv2d", weight)
        if let bias { try checkSameDevice("conv2d", bias) }
        try checkFloat("conv2d")
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
        let plane = g.outHeight * g.outWidth
        let columns = g.columnCount

        let cols = try Tensor.empty([g.patchSize, columns], on: backend)
        try backend.im2col(x.buffer, g, into: cols.buffer)
        let product = try Tensor.empty([outChannels, columns], on: backend)
        try backend.gemm(
            GemmDescriptor(batch: 1, m: outChannels, n: columns, k: g.patchSize),
            MatrixOperand(buffer: w.buffer, offset: 0, rowStride: g.patchSize, columnStride: 1, batchStride: 0),
            MatrixOperand(buffer: cols.buffer, offset: 0, rowStride: columns, columnStride: 1, batchStride: 0),
            MatrixOperand(buffer: product.buffer, offset: 0, rowStride: columns, columnStride: 1, batchStride: 0))

        // [O, N·P] → [N, O, P], adding the bias on the way.
        let out = try Tensor.empty([g.batch, outChannels, g.outHeight, g.outWidth], on: backend)
        let permuted = StridedView(buffer: product.buffer, shape: [g.batch, outChannels, plane], strides: [plane, columns, 1])
        let target = StridedView(contiguous: out.buffer, shape: [g.batch, outChannels, plane])
        if let bias {
            let b = try bias.dense()
            try backend.binary(
                .add, permuted, StridedView(buffer: b.buffer, shape: [g.batch, outChannels, plane], strides: [0, 1, 0]),
                into: target)
        } else {
            try backend.copy(permuted, to: target)
        }

        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        let needs = inputs.map(\.requiresGrad)
        return out.recordingGradient("conv2d", inputs) { gradient in
            let backend = w.backend
            let dy = try gradient.dense()
            // [N, O, P] → [O, N·P]
            let dyT = try Tensor.empty([outChannels, columns], on: backend)
            try backend.copy(
                StridedView(buffer: dy.buffer, shape: [outChannels, g.batch, plane], strides: [plane, outChannels * plane, 1]),
                to: StridedView(contiguous: dyT.buffer, shape: [outChannels, g.batch, plane]))
            var grads: [Tensor?] = [nil, nil]
            if needs[0] {
                let dcols = try Tensor.empty([g.patchSize, columns], on: backend)
                try backend.gemm(
                    GemmDescriptor(batch: 1, m: g.patchSize, n: columns, k: outChannels),
                    MatrixOperand(buffer: w.buffer, offset: 0, rowStride: 1, columnStride: g.patchSize, batchStride: 0),
                    MatrixOperand(buffer: dyT.buffer, offset: 0, rowStride: columns, columnStride: 1, batchStride: 0),
                    MatrixOperand(buffer: dcols.buffer, offset: 0, rowStride: columns, columnStride: 1, batchStride: 0))
                let dx = try Tensor.empty(x.shape, on: backend)
                try backend.col2im(dcols.buffer, g, into: dx.buffer)
                grads[0] = dx
            }
            if needs[1] {
                let dw = try Tensor.empty(w.shape, on: backend)
                try backend.gemm(
                    GemmDescriptor(batch: 1, m: outChannels, n: g.patchSize, k: columns),
                    MatrixOperand(buffer: dyT.buffer, offset: 0, rowStride: columns, columnStride: 1, batchStride: 0),
                    MatrixOperand(buffer: cols.buffer, offset: 0, rowStride: 1, columnStride: columns, batchStride: 0),
                    MatrixOperand(buffer: dw.buffer, offset: 0, rowStride: g.patchSize, columnStride: 1, batchStride: 0))
                grads[1] = dw
            }
            if needs.count == 3 {
                grads.append(needs[2] ? try dyT.sum(axes: [1]) : nil)
            }
            return grads
        }
    }
}
