import Cortado
import Testing

/// One operation with its input shapes, run identically on every backend.
struct BackendOpCase: Sendable, CustomTestStringConvertible {
    let name: String
    let shapes: [[Int]]
    let low: Float
    let high: Float
    /// The element types the op runs in besides float32 (on every backend).
    let halves: [DType]
    let apply: @Sendable ([Tensor]) throws -> Tensor

    init(
        _ name: String, _ shapes: [[Int]], low: Float = -2, high: Float = 2, halves: Bool = false,
        _ apply: @escaping @Sendable ([Tensor]) throws -> Tensor
    ) {
        self.name = name
        self.shapes = shapes
        self.low = low
        self.high = high
        self.halves = halves ? [.float16, .bfloat16] : []
        self.apply = apply
    }

    var testDescription: String { name }
}

/// Every differentiable operation at sizes with tails (odd extents), as ggml's test-backend-ops:
/// the OpenCL results and gradients must match the CPU backend's.
let backendOpCases: [BackendOpCase] = [
    BackendOpCase("add broadcast", [[33, 17], [17]], halves: true) { try $0[0] + $0[1] },
    BackendOpCase("sub broadcast", [[5, 1, 7], [3, 1]], halves: true) { try $0[0] - $0[1] },
    BackendOpCase("mul", [[1023], [1023]], halves: true) { try $0[0] * $0[1] },
    BackendOpCase("div", [[9, 13], [9, 1]], low: 0.5, high: 2, halves: true) { try $0[0] / $0[1] },
    BackendOpCase("pow", [[7, 5], [5]], low: 0.5, high: 2, halves: true) { try $0[0].pow($0[1]) },
    BackendOpCase("maximum", [[31], [31]], halves: true) { try $0[0].maximum($0[1]) },
    BackendOpCase("minimum", [[4, 6], [6]], halves: true) { try $0[0].minimum($0[1]) },
    BackendOpCase("exp log sqrt", [[257]], low: 0.1, high: 3, halves: true) { try $0[0].exp().log().sqrt() },
    BackendOpCase("abs relu", [[129]], halves: true) { try $0[0].abs() * $0[0].relu() },
    BackendOpCase("sigmoid tanh gelu", [[65]], low: -4, high: 4, halves: true) { try $0[0].sigmoid() + $0[0].tanh() * $0[0].gelu() },
    BackendOpCase("scalars", [[3, 11]], low: 0.5, high: 2, halves: true) { try (2 - $0[0] * 3 + 1).pow(2) / 4 + 1 / $0[0] },
    BackendOpCase("transpose slice", [[12, 9]], halves: true) { try $0[0].transposed().sliced(axis: 0, 1..<8, step: 3).square() },
    BackendOpCase("expand concat", [[3, 1], [3, 4]], halves: true) { try Tensor.concat([$0[0].expanded(to: [3, 5]), $0[1]], axis: 1).square() },
    BackendOpCase("sum mean", [[6, 7, 5]], halves: true) { try $0[0].sum(axes: [1]) + $0[0].mean(axes: [1]) },
    BackendOpCase("max min", [[6, 7, 5]], halves: true) { try $0[0].max(axes: [0, 2]) - $0[0].min(axes: [2]).mean(axes: [0]) },
    BackendOpCase("softmax", [[9, 33]], halves: true) { try $0[0].softmax(axis: 1) },
    BackendOpCase("logSoftmax axis 0", [[9, 33]], halves: true) { try $0[0].logSoftmax(axis: 0) },
    BackendOpCase("matmul", [[33, 65], [65, 7]], halves: true) { try $0[0].matmul($0[1]) },
    BackendOpCase("batched matmul transposed", [[3, 17, 9], [3, 17, 5]], halves: true) { try $0[0].transposed().matmul($0[1]) },
    BackendOpCase("conv2d", [[2, 3, 11, 9], [5, 3, 3, 3], [5]], halves: true) { try $0[0].conv2d(weight: $0[1], bias: $0[2], stride: Size2D(2, 1), padding: 1) },
    // The cnn's first layer at batch 16: the CPU spreads its per-sample GEMMs over the cores and
    // sums the weight gradient's per-core partial products.
    BackendOpCase("conv2d cnn shape, batch 16", [[16, 1, 28, 28], [32, 1, 3, 3], [32]], halves: true) { try $0[0].conv2d(weight: $0[1], bias: $0[2]) },
    // The 2×2 window: rows of 13 and of 19 outputs (8-, 4- and 1-wide steps on CPU-type devices),
    // an odd row and column that no window covers.
    BackendOpCase("maxPool2d 2×2", [[2, 3, 26, 26]], halves: true) { try $0[0].maxPool2d(kernelSize: 2) },
    BackendOpCase("maxPool2d 2×2, odd sizes", [[2, 3, 27, 39]], halves: true) { try $0[0].maxPool2d(kernelSize: 2) },
    BackendOpCase("maxPool2d", [[2, 3, 9, 9]], halves: true) { try $0[0].maxPool2d(kernelSize: 3, stride: 2, padding: 1) },
    BackendOpCase("avgPool2d", [[2, 3, 8, 8]], halves: true) { try $0[0].avgPool2d(kernelSize: 2) },
    BackendOpCase("lstm", [[3, 7, 20], [20, 5]], halves: true) { try $0[0].lstm(recurrentWeight: $0[1]) },
    BackendOpCase("gru", [[3, 7, 15], [15, 5], [15]], halves: true) { try $0[0].gru(recurrentWeight: $0[1], recurrentBias: $0[2]) },
    // Multiples of 16 units: OpenCL's one-kernel steps with float16 vectors and 4 rows per work-item
    // on CPU-type devices (other widths run a GEMM per step there), batches with a row tail.
    BackendOpCase("lstm 16 units", [[3, 5, 64], [64, 16]], low: -0.5, high: 0.5, halves: true) { try $0[0].lstm(recurrentWeight: $0[1]) },
    BackendOpCase("gru 32 units, masked", [[5, 4, 96], [96, 32], [96]], low: -0.5, high: 0.5, halves: true) {
        try $0[0].gru(recurrentWeight: $0[1], recurrentBias: $0[2],
                      mask: Tensor((0..<20).map { $0 % 7 == 3 ? 0 : 1 }, shape: [5, 4], device: $0[0].device))
    },
    // Enough work that the CPU splits the batch over its cores (rows in blocks with a tile tail).
    BackendOpCase("lstm 64 units, batch 20, masked", [[20, 20, 256], [256, 64]], low: -0.5, high: 0.5, halves: true) {
        try $0[0].lstm(recurrentWeight: $0[1],
                       mask: Tensor((0..<400).map { $0 % 9 == 4 ? 0 : 1 }, shape: [20, 20], device: $0[0].device))
    },
    BackendOpCase("gru 64 units, batch 20", [[20, 20, 192], [192, 64], [192]], low: -0.5, high: 0.5, halves: true) {
        try $0[0].gru(recurrentWeight: $0[1], recurrentBias: $0[2])
    },
    // Wider than OpenCL's one-kernel steps (256 units): the GEMM-per-step schedule, with padding.
    BackendOpCase("lstm 260 units, masked", [[2, 3, 1040], [1040, 260]], low: -0.1, high: 0.1, halves: true) {
        try $0[0].lstm(recurrentWeight: $0[1], mask: Tensor([1, 1, 0, 0, 1, 1], shape: [2, 3], device: $0[0].device))
    },
    BackendOpCase("gru 260 units, masked", [[2, 3, 780], [780, 260], [780]], low: -0.1, high: 0.1, halves: true) {
        try $0[0].gru(recurrentWeight: $0[1], recurrentBias: $0[2], mask: Tensor([0, 1, 1, 1, 1, 0], shape: [2, 3], device: $0[0].device))
    },
    BackendOpCase("gatheredRows", [[9, 5]], halves: true) { try $0[0].gatheredRows(Tensor(indices: [8, 0, 3, 3, 8, 1], shape: [2, 3], device: $0[0].device)) },
    BackendOpCase("layerNorm", [[6, 33], [33], [33]], halves: true) { try $0[0].layerNorm(weight: $0[1], bias: $0[2]) },
    BackendOpCase("attention, masked", [[2, 3, 5, 8], [2, 3, 7, 8], [2, 3, 7, 8]], halves: true) {
        try $0[0].scaledDotProductAttention(key: $0[1], value: $0[2],
                                            keyMask: Tensor([1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0], shape: [2, 7], device: $0[0].device))
    },
]

/// One op case in one 16-bit element type, for the dtype axis of the cross-backend table.
struct HalfOpCase: Sendable, CustomTestStringConvertible {
    let op: BackendOpCase
    let dtype: DType
    var testDescription: String { "\(op.name) in \(dtype)" }

    /// Tolerances against float32 on the same (rounded) inputs: a few units in the last place of
    /// the type, for results rounded once per op.
    var versusFloat32: (rtol: Float, atol: Float) { dtype == .float16 ? (8e-3, 4e-3) : (6e-2, 3e-2) }
    /// Tolerances between backends: both compute in float32 and round once, so they differ only
    /// where a float32 result lies within float32 rounding of a half-way point.
    var betweenBackends: (rtol: Float, atol: Float) { dtype == .float16 ? (2e-3, 1e-3) : (1.6e-2, 8e-3) }

    /// Runs the op on `device` with inputs stored in `dtype` (`float32` for the reference, from
    /// the same rounded values); returns the output and each input's gradient as floats.
    func run(on device: Device, in dtype: DType) throws -> (output: [Float], gradients: [[Float]]) {
        let inputs = try op.shapes.enumerated().map { index, shape in
            let values = try Tensor(Fixtures.values(shape.reduce(1, *), seed: UInt64(100 + index), low: op.low, high: op.high),
                                    shape: shape, dtype: self.dtype, device: .cpu).toArray()
            return try Tensor(values, shape: shape, dtype: dtype, device: device).requiringGrad()
        }
        let output = try op.apply(inputs)
        #expect(output.dtype == dtype, "\(op.name): output in \(output.dtype)")
        // The same (rounded) weights in every run, so only the op's own rounding differs.
        let weightValues = try Tensor(Fixtures.values(output.count, seed: 7), dtype: self.dtype, device: .cpu).toArray()
        let weights = try Tensor(weightValues, shape: output.shape, dtype: dtype, device: device)
        try (output * weights).sum().backward()
        return (try output.toArray(), try inputs.map { input in
            guard let grad = input.grad else { return [] }
            #expect(grad.dtype == dtype, "\(op.name): gradient in \(grad.dtype)")
            return try grad.toArray()
        })
    }
}

let halfOpCases = backendOpCases.flatMap { op in op.halves.map { HalfOpCase(op: op, dtype: $0) } }

@Suite("CPU and OpenCL agree")
struct CrossBackendTests {
    @Test("ops in float16 and bfloat16 storage match float32 on the same inputs, on every backend",
          arguments: halfOpCases, TestDevices.all)
    func halfMatchesFloat32(_ op: HalfOpCase, device: Device) throws {
        let half = try op.run(on: device, in: op.dtype)
        let reference = try op.run(on: .cpu, in: .float32)
        let (rtol, atol) = op.versusFloat32
        assertClose(half.output, reference.output, rtol: rtol, atol: atol, "\(op.testDescription) output")
        for (index, gradient) in half.gradients.enumerated() {
            assertClose(gradient, reference.gradients[index], rtol: rtol, atol: atol, "\(op.testDescription) ∂/∂input\(index)")
        }
    }

    @Test("ops in float16 and bfloat16 storage: OpenCL matches the CPU backend", arguments: halfOpCases, TestDevices.openCLVariants)
    func halfOpenCLMatchesCPU(_ op: HalfOpCase, device: Device) throws {
        let cpu = try op.run(on: .cpu, in: op.dtype)
        let openCL = try op.run(on: device, in: op.dtype)
        let (rtol, atol) = op.betweenBackends
        assertClose(openCL.output, cpu.output, rtol: rtol, atol: atol, "\(op.testDescription) output")
        for (index, gradient) in openCL.gradients.enumerated() {
            assertClose(gradient, cpu.gradients[index], rtol: rtol, atol: atol, "\(op.testDescription) ∂/∂input\(index)")
        }
    }

    @Test("outputs and gradients of OpenCL match the CPU backend", arguments: backendOpCases, TestDevices.openCLVariants)
    func openCLMatchesCPU(_ op: BackendOpCase, device: Device) throws {
        func run(on device: Device) throws -> (output: [Float], gradients: [[Float]]) {
            let inputs = try op.shapes.enumerated().map { index, shape in
                try Tensor(Fixtures.values(shape.reduce(1, *), seed: UInt64(100 + index), low: op.low, high: op.high),
                           shape: shape, device: device).requiringGrad()
            }
            let output = try op.apply(inputs)
            let weights = try Tensor(Fixtures.values(output.count, seed: 7), shape: output.shape, device: device)
            try (output * weights).sum().backward()
            return (try output.toArray(), try inputs.map { try $0.grad?.toArray() ?? [] })
        }
        let cpu = try run(on: .cpu)
        let openCL = try run(on: device)
        assertClose(openCL.output, cpu.output, rtol: 1e-4, atol: 1e-5, "\(op.name) output")
        for (index, gradient) in openCL.gradients.enumerated() {
            assertClose(gradient, cpu.gradients[index], rtol: 1e-4, atol: 1e-5, "\(op.name) ∂/∂input\(index)")
        }
    }
}
