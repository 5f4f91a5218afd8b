import Cortado
import Testing

/// The operations that launch kernels built for a fixed work-group size, on `device`: a row sum,
/// LayerNorm forward and backward, attention forward and backward, and a matrix product. Their
/// outputs and gradients, in that order.
private func fixedSizeWorkload(on device: Device) throws -> [[Float]] {
    func values(_ count: Int, _ seed: Int) -> [Float] { (0..<count).map { Float(($0 * 37 + seed * 11) % 23) * 0.1 - 1.1 } }
    let rows = try Tensor(values(4 * 1500, 1), shape: [4, 1500], device: device).sum(axes: [1])

    let x = try Tensor(values(6 * 64, 2), shape: [6, 64], device: device).requiringGrad()
    let weight = try Tensor(values(64, 3), shape: [64], device: device).requiringGrad()
    let bias = try Tensor(values(64, 4), shape: [64], device: device).requiringGrad()
    let normalized = try x.layerNorm(weight: weight, bias: bias)
    try normalized.backward(gradient: Tensor(values(6 * 64, 5), shape: [6, 64], device: device))

    let shape = [1, 2, 5, 8]
    let q = try Tensor(values(80, 6), shape: shape, device: device).requiringGrad()
    let k = try Tensor(values(80, 7), shape: shape, device: device).requiringGrad()
    let v = try Tensor(values(80, 8), shape: shape, device: device).requiringGrad()
    let attended = try q.scaledDotProductAttention(key: k, value: v)
    try attended.backward(gradient: Tensor(values(80, 9), shape: shape, device: device))

    let product = try Tensor(values(33 * 40, 10), shape: [33, 40], device: device)
        .matmul(Tensor(values(40 * 29, 11), shape: [40, 29], device: device))
    return try [rows, normalized, x.grad!, weight.grad!, attended, q.grad!, k.grad!, v.grad!, product].map { try $0.toArray() }
}

/// The work-group size a kernel is built for under `table`.
private func workGroup(of kernel: String, in table: KernelParameters) -> Int {
    switch kernel {
    case "reduce_sum_rows": return table.reductionWorkGroup
    case "layer_norm_forward", "layer_norm_backward_input": return table.normalization.workGroup
    case "attention_forward": return table.attention.queryTile
    case "attention_backward_dq", "attention_backward_dkdv": return table.attention.backwardTile
    default: return table.gemm.threadsM * table.gemm.threadsN
    }
}

@Suite("A refused fixed work-group size is rebuilt smaller")
struct WorkGroupRefitTests {
    @Test("each fixed-size kernel, refused once, is rebuilt for half its work-group and the operation gives the same result",
          arguments: zip(["reduce_sum_rows", "layer_norm_forward", "layer_norm_backward_input", "attention_forward",
                          "attention_backward_dq", "attention_backward_dkdv", "gemm_local_tiled"], 180...186))
    func refusedOnce(kernel: String, instance: Int) throws {
        // The GPU table (the kernels that tile through local memory) on PoCL.
        let expected = try fixedSizeWorkload(on: Device(kind: .opencl, index: 0, profile: .gpu, instance: 190))
        let device = Device(kind: .opencl, index: 0, profile: .gpu, instance: instance)
        let backend = try #require(try DeviceRegistry.shared.backend(for: device).unwrapped as? OpenCLBackend)
        let before = backend.parameters
        let refused = try CLFaultInjection.withFaults("clEnqueueNDRangeKernel@\(kernel):CL_INVALID_WORK_GROUP_SIZE*1") {
            try fixedSizeWorkload(on: device)
        }
        // Sums over smaller work-groups add in another order.
        for (index, (actual, reference)) in zip(refused, expected).enumerated() {
            assertClose(actual, reference, rtol: 1e-5, atol: 1e-5, "output \(index)")
        }
        let after = backend.parameters
        #expect(workGroup(of: kernel, in: after) * 2 == workGroup(of: kernel, in: before))
        var unchanged = after
        switch kernel {
        case "reduce_sum_rows": unchanged.reductionWorkGroup = before.reductionWorkGroup
        case "layer_norm_forward", "layer_norm_backward_input": unchanged.normalization = before.normalization
        case "attention_forward", "attention_backward_dq", "attention_backward_dkdv": unchanged.attention = before.attention
        default:
            #expect(after.gemm.algorithm == .localTiled && after.gemm.tileM / after.gemm.threadsM == before.gemm.tileM / before.gemm.threadsM)
            unchanged.gemm = before.gemm
        }
        #expect(unchanged == before, "only the refused kernel's size changes")
        try after.validate()
    }

    @Test("a kernel the device never runs shrinks to one work-item, then fails with the device's limits")
    func neverRuns() throws {
        let device = Device(kind: .opencl, index: 0, profile: nil, instance: 187)
        let backend = try #require(try DeviceRegistry.shared.backend(for: device).unwrapped as? OpenCLBackend)
        let x = try Tensor((0..<300).map { Float($0) }, shape: [3, 100], device: device)
        let thrown = #expect(throws: CortadoError.self) {
            try CLFaultInjection.withFaults("clEnqueueNDRangeKernel@reduce_sum_rows:CL_INVALID_WORK_GROUP_SIZE") {
                _ = try x.sum(axes: [1]).toArray()
            }
        }
        guard case let .openCL(failure)? = thrown else {
            Issue.record("expected an OpenCL failure, got \(String(describing: thrown))")
            return
        }
        #expect(backend.parameters.reductionWorkGroup == 1)
        #expect(failure.kernel == "reduce_sum_rows" && failure.localSize == [1], "\(failure)")
        #expect(failure.limits.contains("built for work-groups of"), "\(failure.limits)")
        // Without the fault, the shrunk table computes the right sums.
        let sums = try x.sum(axes: [1]).toArray()
        #expect(sums == [4950, 14950, 24950])
    }

    @Test("a tuned table whose fixed-size kernel is refused gives way to the built-in table")
    func tunedTableSetAside() throws {
        let directory = try TemporaryDirectory()
        let store = TunedParameterStore(directory: directory.url)
        let record = try DeviceRegistry.shared.record(for: TestDevices.openCL)
        let builtIn = KernelParameters.defaults(for: KernelProfile(for: record.info.type))
        var tuned = builtIn
        tuned.reductionWorkGroup = 8
        tuned.elementwiseWorkGroup = 32
        try store.save(TunedParameterStore.Entry(
            device: record.info.name, driver: record.info.driverVersion, platform: record.info.platform ?? "",
            parameters: tuned, defaultScore: 1, tunedScore: 2, date: "2026-12-03T00:00:00Z"), for: record.info)
        let backend = try OpenCLBackend(record: record, device: Device(kind: .opencl, index: 0, profile: nil, instance: 188), store: store)
        #expect(backend.parameters == tuned)
        let values = (0..<2 * 700).map { Float($0 % 13) }
        let x = try backend.allocator.allocate(count: values.count, dtype: .float32)
        try values.withUnsafeBytes { try backend.write($0, to: x, atByte: 0) }
        let sums = try backend.allocator.allocate(count: 2, dtype: .float32)
        try CLFaultInjection.withFaults("clEnqueueNDRangeKernel@reduce_sum_rows:CL_INVALID_WORK_GROUP_SIZE*1") {
            try backend.reduce(.sum, x, offset: 0, outer: 2, n: 700, inner: 1, scale: 1, into: sums)
        }
        var result = [Float](repeating: 0, count: 2)
        try result.withUnsafeMutableBytes { try backend.read(sums, atByte: 0, into: $0) }
        #expect(result == [values[..<700].reduce(0, +), values[700...].reduce(0, +)])
        var expected = builtIn
        expected.reductionWorkGroup = 4  // half the refused 8
        #expect(backend.parameters == expected)
    }
}
