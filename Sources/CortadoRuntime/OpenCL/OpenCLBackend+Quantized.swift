/// Quantised inference on OpenCL (`Kernels/quantized.cl`): with the device's
/// `cl_khr_integer_dot_product`, `char4` dot products and int32 sums per block (``integerProducts``);
/// without it, the
/// operands times their scales in float and the float32 product (`gemm`), as ggml's GPU back ends
/// dequantise for large batches: on PoCL `char4` products widened to int ran at 0.08–0.19× the
/// float product's rate, and a GPU's float rate is at least its int32 rate.
extension OpenCLBackend {
    package func quantizedGemm(
        _ d: QuantizedGemmDescriptor, _ a: DeviceBuffer, aScales: DeviceBuffer, _ w: DeviceBuffer,
        wScales: DeviceBuffer, bias: DeviceBuffer?, into out: DeviceBuffer
    ) throws {
        guard d.m > 0, d.n > 0 else { return }
        try checkIndexable(max(d.m, d.n) * max(d.k, 1))
        guard integerProducts else {
            return try dequantizedGemm(d, a, aScales: aScales, w, wScales: wScales, bias: bias, into: out)
        }
        try launch(.quantized(integerDot: integerDotProduct), "quantized_gemm",
                   global: [(d.n + 3) / 4, (d.m + 3) / 4], local: [8, 8], [
            .buffer(a), .buffer(aScales), .buffer(w), .buffer(wScales), .buffer(bias ?? wScales),
            .int(bias == nil ? 0 : 1), .buffer(out), .int(d.m), .int(d.n), .int(d.k), .int(min(d.block, max(d.k, 1))),
            .int(d.blocks),
        ])
    }

    /// `out = (a · a_scales) · (w · w_scales)ᵀ + bias` in float32: each operand widened once into
    /// scratch memory, then the float product.
    private func dequantizedGemm(
        _ d: QuantizedGemmDescriptor, _ a: DeviceBuffer, aScales: DeviceBuffer, _ w: DeviceBuffer,
        wScales: DeviceBuffer, bias: DeviceBuffer?, into out: DeviceBuffer
    ) throws {
        let block = min(d.block, max(d.k, 1))
        let wideA = try dequantize(a, scales: aScales, rows: d.m, width: d.k, block: block, blocks: d.blocks)
        let wideW = try dequantize(w, scales: wScales, rows: d.n, width: d.k, block: block, blocks: d.blocks)
        try gemm(
            GemmDescriptor(batch: 1, m: d.m, n: d.n, k: d.k),
            MatrixOperand(buffer: wideA, offset: 0, rowStride: d.k, columnStride: 1, batchStride: 0),
            MatrixOperand(buffer: wideW, offset: 0, rowStride: 1, columnStride: d.k, batchStride: 0),
            MatrixOperand(buffer: out, offset: 0, rowStride: d.n, columnStride: 1, batchStride: 0))
        guard let bias else { return }
        let result = StridedView(buffer: out, offset: 0, shape: [d.m, d.n], strides: [d.n, 1])
        try binary(.add, result, StridedView(buffer: bias, offset: 0, shape: [d.m, d.n], strides: [0, 1]), into: result)
    }

    /// `q[rows][width]` (int8) times its per-block scales, as a new float32 buffer.
    private func dequantize(
        _ q: DeviceBuffer, scales: DeviceBuffer, rows: Int, width: Int, block: Int, blocks: Int
    ) throws -> DeviceBuffer {
        let wide = try allocator.allocate(count: rows * width, dtype: .float32)
        try launch(.quantized(integerDot: integerDotProduct), "dequantize_rows",
                   global: [rows * width], local: [parameters.elementwiseWorkGroup], [
            .buffer(q), .buffer(scales), .buffer(wide), .int(rows), .int(width), .int(block), .int(blocks),
        ])
        return wide
    }

    package func quantizeRows(
        _ x: DeviceBuffer, rows: Int, width: Int, block: Int, fixed: DeviceBuffer?, multipliers: DeviceBuffer?,
        into q: DeviceBuffer, scales: DeviceBuffer
    ) throws {
        guard rows > 0, width > 0 else { return }
        try checkIndexable(rows * width)
        let blockWidth = min(block, width)
        let blocks = (width + blockWidth - 1) / blockWidth
        try launch(.quantized(integerDot: integerDotProduct), "quantize_rows", global: [rows * blocks], local: [64], [
            .buffer(x), .buffer(q), .buffer(scales), .buffer(fixed ?? scales), .int(fixed == nil ? 0 : 1),
            .buffer(multipliers ?? scales), .int(multipliers == nil ? 0 : 1), .int(rows),
            .int(width), .int(blockWidth), .int(blocks),
        ])
    }
}
