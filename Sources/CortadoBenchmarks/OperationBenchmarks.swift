import CortadoTraining

/// The operation suite of `cortado bench`: GEMM at square sizes and at the built-in models'
/// shapes, convolutions at their shapes, LayerNorm and attention at MiniLM's shapes, memory-bound
/// kernels, the fused Adam update, and copies between host and device.
///
/// Each case keeps its operands in the compute type of the scope it is prepared in (`cortado bench
/// --precision`), as a layer of a mixed-precision pass sees them; the Adam update always works on
/// float32 master weights (that is what mixed-precision training updates), and the copies move
/// float32.
public enum OperationBenchmarks {
    /// Every operation case.
    public static func all(gemmSizes: [Int] = [256, 512, 1024, 2048, 4096]) -> [BenchmarkCase] {
        gemmSizes.map(squareGemm) + modelGemms + convolutions + transformer + memory
    }

    /// `C = A·B` for `n × n` matrices.
    public static func squareGemm(_ n: Int) -> BenchmarkCase {
        gemm("sgemm \(n)", m: n, k: n, n: n)
    }

    /// The GEMMs the built-in models run at batch 64 (forward products; convolutions via im2col).
    public static let modelGemms: [BenchmarkCase] = [
        gemm("sgemm cnn conv 32x9x43264", m: 32, k: 9, n: 43_264),
        gemm("sgemm cnn dense 64x5408x64", m: 64, k: 5408, n: 64),
        gemm("sgemm mlp dense 64x784x256", m: 64, k: 784, n: 256),
        gemm("sgemm lenet conv2 50x500x4096", m: 50, k: 500, n: 4096),
        gemm("sgemm lenet dense 64x800x500", m: 64, k: 800, n: 500),
    ]

    private static func gemm(_ name: String, m: Int, k: Int, n: Int) -> BenchmarkCase {
        BenchmarkCase(name, group: "sgemm", work: .flops(2 * Double(m) * Double(n) * Double(k))) { device in
            let generator = RandomGenerator(seed: 1)
            let a = try Tensor.uniform([m, k], device: device, generator: generator).inComputeType()
            let b = try Tensor.uniform([k, n], device: device, generator: generator).inComputeType()
            return { _ = try withNoGrad { try a.matmul(b) } }
        }
    }

    /// Forward and backward (input and weight gradients) of the built-in models' convolutions.
    public static let convolutions: [BenchmarkCase] = [
        ("cnn conv1", [64, 1, 28, 28], [32, 1, 3, 3]),
        ("lenet conv1", [64, 1, 28, 28], [20, 1, 5, 5]),
        ("lenet conv2", [64, 20, 12, 12], [50, 20, 5, 5]),
    ].flatMap { name, input, weight -> [BenchmarkCase] in
        let outputs = input[0] * weight[0] * (input[2] - weight[2] + 1) * (input[3] - weight[3] + 1)
        let flops = 2 * Double(outputs) * Double(weight[1] * weight[2] * weight[3])
        @Sendable func prepare(_ device: Device) throws -> (Tensor, Tensor, Tensor) {
            let generator = RandomGenerator(seed: 2)
            return (try Tensor.uniform(input, device: device, generator: generator).inComputeType(),
                    try Tensor.normal(weight, std: 0.1, device: device, generator: generator).inComputeType(),
                    try Tensor.zeros([weight[0]], device: device).inComputeType())
        }
        return [
            BenchmarkCase("conv2d \(name) forward", group: "conv2d", work: .flops(flops)) { device in
                let (x, w, b) = try prepare(device)
                return { _ = try withNoGrad { try x.conv2d(weight: w, bias: b) } }
            },
            BenchmarkCase("conv2d \(name) backward", group: "conv2d", work: .flops(2 * flops)) { device in
                let (x, w, b) = try prepare(device)
                let y = try x.requiringGrad().conv2d(weight: w.requiringGrad(), bias: b.requiringGrad())
                let dy = try Tensor.uniform(y.shape, device: device).inComputeType()
                return {
                    for tensor in [x, w, b] { tensor.zeroGrad() }
                    try y.backward(gradient: dy, retainGraph: true)
                }
            },
        ]
    }

    /// LayerNorm and scaled dot-product attention, forward and backward, at all-MiniLM-L6-v2's shapes
    /// for a batch of 32 texts of 64 tokens: LayerNorm over `[32·64, 384]`; attention with 12 heads
    /// of 32, and a padding mask that leaves each text between 17 and 64 tokens.
    public static let transformer: [BenchmarkCase] = {
        let (batch, heads, tokens, headSize, hidden) = (32, 12, 64, 32, 384)
        let rows = batch * tokens
        let layerNormElements = Double(rows * hidden)
        @Sendable func layerNormInputs(_ device: Device) throws -> (Tensor, Tensor, Tensor) {
            let generator = RandomGenerator(seed: 4)
            return (try Tensor.normal([rows, hidden], device: device, generator: generator).inComputeType(),
                    try Tensor.uniform([hidden], low: 0.5, high: 1.5, device: device, generator: generator).inComputeType(),
                    try Tensor.uniform([hidden], low: -0.1, high: 0.1, device: device, generator: generator).inComputeType())
        }
        // Two matrix products of 2·tokens²·headSize flops per (batch, head); backward recomputes the
        // scores and runs four more.
        let attentionFlops = 4 * Double(batch * heads) * Double(tokens * tokens * headSize)
        @Sendable func attentionInputs(_ device: Device) throws -> (Tensor, Tensor, Tensor, Tensor) {
            let generator = RandomGenerator(seed: 5)
            let shape = [batch, heads, tokens, headSize]
            let lengths = (0..<batch).map { 17 + ($0 * 47) % 48 }
            let mask = (0..<batch).flatMap { b in (0..<tokens).map { Float($0 < lengths[b] ? 1 : 0) } }
            return (try Tensor.normal(shape, device: device, generator: generator).inComputeType(),
                    try Tensor.normal(shape, device: device, generator: generator).inComputeType(),
                    try Tensor.normal(shape, device: device, generator: generator).inComputeType(),
                    try Tensor(mask, shape: [batch, tokens], device: device))
        }
        return [
            BenchmarkCase("layernorm 2048x384 forward", group: "normalization", work: .elements(2 * layerNormElements)) { device in
                let (x, w, b) = try layerNormInputs(device)
                return { _ = try withNoGrad { try x.layerNorm(weight: w, bias: b, epsilon: 1e-12) } }
            },
            BenchmarkCase("layernorm 2048x384 backward", group: "normalization", work: .elements(3 * layerNormElements)) { device in
                let (x, w, b) = try layerNormInputs(device)
                let y = try x.requiringGrad().layerNorm(weight: w.requiringGrad(), bias: b.requiringGrad(), epsilon: 1e-12)
                let dy = try Tensor.uniform(y.shape, device: device).inComputeType()
                return {
                    for tensor in [x, w, b] { tensor.zeroGrad() }
                    try y.backward(gradient: dy, retainGraph: true)
                }
            },
            BenchmarkCase("attention minilm 32x12x64x32 forward", group: "attention", work: .flops(attentionFlops)) { device in
                let (q, k, v, mask) = try attentionInputs(device)
                return { _ = try withNoGrad { try q.scaledDotProductAttention(key: k, value: v, keyMask: mask) } }
            },
            BenchmarkCase("attention minilm 32x12x64x32 backward", group: "attention", work: .flops(2.5 * attentionFlops)) { device in
                let (q, k, v, mask) = try attentionInputs(device)
                let y = try q.requiringGrad().scaledDotProductAttention(key: k.requiringGrad(), value: v.requiringGrad(), keyMask: mask)
                let dy = try Tensor.uniform(y.shape, device: device).inComputeType()
                return {
                    for tensor in [q, k, v] { tensor.zeroGrad() }
                    try y.backward(gradient: dy, retainGraph: true)
                }
            },
        ]
    }()

    /// Memory-bound kernels, the fused Adam update, and host↔device copies (GB/s).
    public static let memory: [BenchmarkCase] = {
        let n = 1 << 24  // 16 Mi floats: 64 MiB per tensor
        @Sendable func pair(_ device: Device) throws -> (Tensor, Tensor) {
            let generator = RandomGenerator(seed: 3)
            return (try Tensor.uniform([n], device: device, generator: generator),
                    try Tensor.uniform([n], device: device, generator: generator))
        }
        @Sendable func computePair(_ device: Device) throws -> (Tensor, Tensor) {
            let (a, b) = try pair(device)
            return (try a.inComputeType(), try b.inComputeType())
        }
        let elements = Double(n)
        let bytes = Double(4 * n)
        return [
            BenchmarkCase("add 16M", group: "elementwise", work: .elements(3 * elements)) { device in
                let (a, b) = try computePair(device)
                return { _ = try withNoGrad { try a + b } }
            },
            BenchmarkCase("mul 16M", group: "elementwise", work: .elements(3 * elements)) { device in
                let (a, b) = try computePair(device)
                return { _ = try withNoGrad { try a * b } }
            },
            BenchmarkCase("sum 16M", group: "reduction", work: .elements(elements)) { device in
                let (a, _) = try computePair(device)
                return { _ = try withNoGrad { try a.sum() } }
            },
            // Rows of 512 over 16 Mi elements: the whole tensor, not launch latency, sets the time.
            BenchmarkCase("layernorm 16M forward", group: "normalization", work: .elements(2 * elements)) { device in
                let (a, _) = try computePair(device)
                let rows = try a.reshaped([n / 512, 512])
                let weight = try Tensor.ones([512], device: device).inComputeType()
                let bias = try Tensor.zeros([512], device: device).inComputeType()
                return { _ = try withNoGrad { try rows.layerNorm(weight: weight, bias: bias) } }
            },
            BenchmarkCase("softmax 4096x4096", group: "reduction", work: .elements(2 * elements)) { device in
                let (a, _) = try computePair(device)
                let rows = try a.reshaped([4096, 4096])
                return { _ = try withNoGrad { try rows.softmax(axis: 1) } }
            },
            BenchmarkCase("adam update 16M", group: "optimizer", work: .bytes(7 * bytes)) { device in
                let parameter = try Parameter(Tensor.uniform([n], device: device))
                let (gradient, _) = try pair(device)
                try (parameter.value * gradient).sum().backward()
                let adam = try Adam([("p", parameter)])
                return { try adam.step() }
            },
            BenchmarkCase("copy host to device 64 MiB", group: "copy", work: .bytes(bytes)) { device in
                let values = [Float](repeating: 0.5, count: n)
                return { _ = try Tensor(values, device: device) }
            },
            BenchmarkCase("copy device to host 64 MiB", group: "copy", work: .bytes(bytes)) { device in
                let (a, _) = try pair(device)
                return { _ = try a.toArray() }
            },
            // Into the pinned memory the gradient all-reduce reads its buckets into (ordinary memory
            // where the device has no faster kind): against the row above, what pinning saves.
            BenchmarkCase("copy device to host 64 MiB, staging", group: "copy", work: .bytes(bytes)) { device in
                let (a, _) = try pair(device)
                let staging = try a.backend.makeHostStaging(bytes: a.buffer.byteCount)
                return { try a.backend.read(a.buffer, atByte: 0, into: staging.bytes) }
            },
        ]
    }()
}
