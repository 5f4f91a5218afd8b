import Cortado

/// The cross-backend table: every differentiable operation at sizes with tails (odd extents), as
/// ggml's test-backend-ops. Each device's results and gradients must match the CPU backend's, in
/// every element type the case lists; the test suite and `cortado check` both run this table.
public enum OpCheckTable {
    /// Every case, in report order.
    public static let cases: [OpCheckCase] = [
        OpCheckCase("add broadcast", [[33, 17], [17]], halves: true, quick: true) { try $0[0] + $0[1] },
        OpCheckCase("sub broadcast", [[5, 1, 7], [3, 1]], halves: true) { try $0[0] - $0[1] },
        OpCheckCase("mul", [[1023], [1023]], halves: true) { try $0[0] * $0[1] },
        OpCheckCase("div", [[9, 13], [9, 1]], low: 0.5, high: 2, halves: true, quick: true) { try $0[0] / $0[1] },
        OpCheckCase("pow", [[7, 5], [5]], low: 0.5, high: 2, halves: true, quick: true) { try $0[0].pow($0[1]) },
        OpCheckCase("maximum", [[31], [31]], halves: true) { try $0[0].maximum($0[1]) },
        OpCheckCase("minimum", [[4, 6], [6]], halves: true) { try $0[0].minimum($0[1]) },
        OpCheckCase("exp log sqrt", [[257]], low: 0.1, high: 3, halves: true, quick: true) { try $0[0].exp().log().sqrt() },
        OpCheckCase("abs relu", [[129]], halves: true, quick: true) { try $0[0].abs() * $0[0].relu() },
        OpCheckCase("sigmoid tanh gelu", [[65]], low: -4, high: 4, halves: true, quick: true) { try $0[0].sigmoid() + $0[0].tanh() * $0[0].gelu() },
        OpCheckCase("scalars", [[3, 11]], low: 0.5, high: 2, halves: true) { try (2 - $0[0] * 3 + 1).pow(2) / 4 + 1 / $0[0] },
        OpCheckCase("transpose slice", [[12, 9]], halves: true, quick: true) { try $0[0].transposed().sliced(axis: 0, 1..<8, step: 3).square() },
        OpCheckCase("expand concat", [[3, 1], [3, 4]], halves: true, quick: true) { try Tensor.concat([$0[0].expanded(to: [3, 5]), $0[1]], axis: 1).square() },
        OpCheckCase("sum mean", [[6, 7, 5]], halves: true, quick: true) { try $0[0].sum(axes: [1]) + $0[0].mean(axes: [1]) },
        OpCheckCase("max min", [[6, 7, 5]], halves: true, quick: true) { try $0[0].max(axes: [0, 2]) - $0[0].min(axes: [2]).mean(axes: [0]) },
        OpCheckCase("softmax", [[9, 33]], halves: true, quick: true) { try $0[0].softmax(axis: 1) },
        OpCheckCase("logSoftmax axis 0", [[9, 33]], halves: true, quick: true) { try $0[0].logSoftmax(axis: 0) },
        OpCheckCase("matmul", [[33, 65], [65, 7]], halves: true, quick: true) { try $0[0].matmul($0[1]) },
        OpCheckCase("batched matmul transposed", [[3, 17, 9], [3, 17, 5]], halves: true, quick: true) { try $0[0].transposed().matmul($0[1]) },
        OpCheckCase("conv2d", [[2, 3, 11, 9], [5, 3, 3, 3], [5]], halves: true, quick: true) { try $0[0].conv2d(weight: $0[1], bias: $0[2], stride: Size2D(2, 1), padding: 1) },
        // The cnn's first layer at batch 16: the CPU spreads its per-sample GEMMs over the cores and
        // sums the weight gradient's per-core partial products.
        OpCheckCase("conv2d cnn shape, batch 16", [[16, 1, 28, 28], [32, 1, 3, 3], [32]], halves: true) { try $0[0].conv2d(weight: $0[1], bias: $0[2]) },
        // The 2×2 window: rows of 13 and of 19 outputs (on CPU-type devices blocks of eight, the last
        // overlapping the one before; MaxPoolRowsTests covers every row length), an odd row and
        // column that no window covers.
        OpCheckCase("maxPool2d 2×2", [[2, 3, 26, 26]], halves: true, quick: true) { try $0[0].maxPool2d(kernelSize: 2) },
        OpCheckCase("maxPool2d 2×2, odd sizes", [[2, 3, 27, 39]], halves: true) { try $0[0].maxPool2d(kernelSize: 2) },
        OpCheckCase("maxPool2d", [[2, 3, 9, 9]], halves: true) { try $0[0].maxPool2d(kernelSize: 3, stride: 2, padding: 1) },
        OpCheckCase("avgPool2d", [[2, 3, 8, 8]], halves: true, quick: true) { try $0[0].avgPool2d(kernelSize: 2) },
        OpCheckCase("lstm", [[3, 7, 20], [20, 5]], halves: true, quick: true) { try $0[0].lstm(recurrentWeight: $0[1]) },
        OpCheckCase("gru", [[3, 7, 15], [15, 5], [15]], halves: true, quick: true) { try $0[0].gru(recurrentWeight: $0[1], recurrentBias: $0[2]) },
        // Multiples of 16 units: OpenCL's one-kernel steps with float16 vectors and 4 rows per work-item
        // on CPU-type devices (other widths run a GEMM per step there), batches with a row tail.
        OpCheckCase("lstm 16 units", [[3, 5, 64], [64, 16]], low: -0.5, high: 0.5, halves: true, quick: true) { try $0[0].lstm(recurrentWeight: $0[1]) },
        OpCheckCase("gru 32 units, masked", [[5, 4, 96], [96, 32], [96]], low: -0.5, high: 0.5, halves: true) {
            try $0[0].gru(recurrentWeight: $0[1], recurrentBias: $0[2],
                          mask: Tensor((0..<20).map { $0 % 7 == 3 ? 0 : 1 }, shape: [5, 4], device: $0[0].device))
        },
        // Enough work that the CPU splits the batch over its cores (rows in blocks with a tile tail).
        OpCheckCase("lstm 64 units, batch 20, masked", [[20, 20, 256], [256, 64]], low: -0.5, high: 0.5, halves: true) {
            try $0[0].lstm(recurrentWeight: $0[1],
                           mask: Tensor((0..<400).map { $0 % 9 == 4 ? 0 : 1 }, shape: [20, 20], device: $0[0].device))
        },
        OpCheckCase("gru 64 units, batch 20", [[20, 20, 192], [192, 64], [192]], low: -0.5, high: 0.5, halves: true) {
            try $0[0].gru(recurrentWeight: $0[1], recurrentBias: $0[2])
        },
        // Wider than OpenCL's one-kernel steps (256 units): the GEMM-per-step schedule, with padding.
        OpCheckCase("lstm 260 units, masked", [[2, 3, 1040], [1040, 260]], low: -0.1, high: 0.1, halves: true) {
            try $0[0].lstm(recurrentWeight: $0[1], mask: Tensor([1, 1, 0, 0, 1, 1], shape: [2, 3], device: $0[0].device))
        },
        OpCheckCase("gru 260 units, masked", [[2, 3, 780], [780, 260], [780]], low: -0.1, high: 0.1, halves: true) {
            try $0[0].gru(recurrentWeight: $0[1], recurrentBias: $0[2], mask: Tensor([0, 1, 1, 1, 1, 0], shape: [2, 3], device: $0[0].device))
        },
        OpCheckCase("gatheredRows", [[9, 5]], halves: true, quick: true) { try $0[0].gatheredRows(Tensor(indices: [8, 0, 3, 3, 8, 1], shape: [2, 3], device: $0[0].device)) },
        OpCheckCase("layerNorm", [[6, 33], [33], [33]], halves: true, quick: true) { try $0[0].layerNorm(weight: $0[1], bias: $0[2]) },
        OpCheckCase("attention, masked", [[2, 3, 5, 8], [2, 3, 7, 8], [2, 3, 7, 8]], halves: true, quick: true) {
            try $0[0].scaledDotProductAttention(key: $0[1], value: $0[2],
                                                keyMask: Tensor([1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0], shape: [2, 7], device: $0[0].device))
        },
    ]

    /// The cases `cortado check --quick` runs: a sample of every kind of op at small sizes.
    public static var quickCases: [OpCheckCase] { cases.filter(\.quick) }
}
