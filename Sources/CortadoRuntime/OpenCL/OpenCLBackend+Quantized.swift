/// Quantised inference on OpenCL (`Kernels/quantized.cl`): `char4` dot products (the device's
/// `cl_khr_integer_dot_product` where it has it), int32 sums per block, float32 results.
extension OpenCLBackend {
    package func quantizedGemm(
        _ d: QuantizedGemmDescriptor, _ a: DeviceBuffer, aScales: DeviceBuffer, _ w: DeviceBuffer,
        wScales: DeviceBuffer, bias: DeviceBuffer?, into out: DeviceBuffer
    ) throws {
        guard d.m > 0, d.n > 0 else { return }
        try checkIndexable(max(d.m, d.n) * max(d.k, 1))
        try launch(.quantized(integerDot: integerDotProduct), "quantized_gemm",
                   global: [(d.n + 3) / 4, (d.m + 3) / 4], local: [8, 8], [
            .buffer(a), .buffer(aScales), .buffer(w), .buffer(wScales), .buffer(bias ?? wScales),
            .int(bias == nil ? 0 : 1), .buffer(out), .int(d.m), .int(d.n), .int(d.k), .int(min(d.block, max(d.k, 1))),
            .int(d.blocks),
        ])
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
