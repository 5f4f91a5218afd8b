import Cortado
import CortadoNN
import CortadoTraining
import Testing

@Suite("Mixed precision: layers in 16 bits, master weights in float32")
struct MixedPrecisionTests {
    /// The cnn and the lstm on a small batch: output and master-weight gradients with layers
    /// computing in `dtype` (or float32).
    static func run(_ model: BuiltinModel, in dtype: DType, device: Device, batch: Int = 4, side: Int = 12) throws
        -> (output: [Float], outputType: DType, gradients: [[Float]], gradientTypes: [DType]) {
        let text = model.readsTokens
        let network = try model.make(sampleShape: text ? [12] : [1, side, side], outputs: 3, vocabulary: 50,
                                     device: device, generator: RandomGenerator(seed: 5))
        if text { network.eval() }  // no dropout: the runs must see the same network
        let input = text
            ? try Tensor(indices: (0..<(batch * 12)).map { Int32($0 * 7 % 50) }, shape: [batch, 12], device: device)
            : try Tensor(Fixtures.values(batch * side * side, seed: 3), shape: [batch, 1, side, side], device: device)
        let output = try withComputeType(dtype) { try network(input) }
        let loss = try Losses.crossEntropy(logits: output, labels: Tensor(indices: (0..<batch).map { Int32($0 * 5 % 3) }, device: device))
        #expect(loss.dtype == .float32, "losses are float32")
        try loss.backward()
        let parameters = network.namedParameters().map(\.parameter)
        return (try output.toArray(), output.dtype,
                try parameters.map { try $0.gradient?.toArray() ?? [] }, parameters.compactMap { $0.gradient?.dtype })
    }

    @Test("cnn, mlp and lstm in bfloat16 and float16 track float32, with float32 master gradients",
          arguments: [BuiltinModel.cnn, .mlp, .lstm], TestDevices.all)
    func modelsTrackFloat32(model: BuiltinModel, device: Device) throws {
        let reference = try Self.run(model, in: .float32, device: device)
        for dtype in [DType.bfloat16, .float16] {
            let half = try Self.run(model, in: dtype, device: device)
            #expect(half.outputType == dtype)
            #expect(half.gradientTypes.allSatisfy { $0 == .float32 } && half.gradientTypes.count == reference.gradients.count)
            let tolerance: Float = dtype == .bfloat16 ? 4e-2 : 6e-3
            assertClose(half.output, reference.output, rtol: tolerance, atol: tolerance, "\(model) \(dtype) output")
            // Gradients as whole tensors (relative Euclidean error). Rounding can flip which element
            // of a pooling window is largest, which routes the gradient to another pixel: the
            // convolution below the cnn's pooling is compared by the cross-backend table instead,
            // on identical rounded inputs.
            // The cnn's convolution (parameters 0 and 1) sits before the pooling.
            for (index, gradient) in half.gradients.enumerated() where model != .cnn || index >= 2 {
                let expected = reference.gradients[index]
                let error = zip(gradient, expected).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +).squareRoot()
                let norm = expected.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
                #expect(error <= Double(tolerance) * max(norm, 1e-6),
                        "\(model) \(dtype) gradient \(index): relative error \(error / max(norm, 1e-12))")
            }
        }
    }

    @Test("the loss scaler skips overflowing steps, unscales clean ones and grows after its interval")
    func lossScaler() throws {
        let parameter = try Parameter(Tensor([1, 2], device: .cpu))
        let scaler = try LossScaler(scale: 1024, growthInterval: 2)
        // A clean step: gradients come back divided by the scale.
        try scaler.scaled((parameter.value * 3).sum()).backward()
        #expect(try scaler.unscale([parameter]))
        #expect(try parameter.gradient?.toArray() == [3, 3])
        #expect(scaler.scale == 1024)
        // An overflow: the step is skipped and the scale halves.
        parameter.zeroGrad()
        try scaler.scaled((parameter.value * Float.greatestFiniteMagnitude).sum()).backward()
        #expect(try !scaler.unscale([parameter]))
        #expect(scaler.scale == 512 && scaler.skippedSteps == 1)
        // Two clean steps in a row double it.
        for _ in 0..<2 {
            parameter.zeroGrad()
            try scaler.scaled(parameter.value.sum()).backward()
            #expect(try scaler.unscale([parameter]))
        }
        #expect(scaler.scale == 1024)
        #expect(throws: CortadoError.self) { try LossScaler(scale: .infinity) }
    }

    @Test("the allocator reports the peak of live bytes since its last reset")
    func peakMemory() throws {
        // A private allocator of host memory: no other test allocates from it.
        let allocator = CachingAllocator(
            device: .cpu, maxAllocation: 1 << 30,
            allocate: { bytes in .host(UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)) },
            free: { $0.hostPointer.deallocate() })
        do {
            let a = try allocator.allocate(count: 1 << 18, dtype: .float32)   // 1 MiB
            do {
                let b = try allocator.allocate(count: 1 << 17, dtype: .bfloat16)  // 256 KiB
                #expect(allocator.statistics.peakLiveBytes == (1 << 20) + (1 << 18))
                #expect(b.byteCount == 1 << 18)
            }
            #expect(a.byteCount == 1 << 20)
            #expect(allocator.statistics.liveBytes == 1 << 20)
        }
        #expect(allocator.statistics.liveBytes == 0)
        #expect(allocator.statistics.peakLiveBytes == (1 << 20) + (1 << 18), "the peak outlives the buffers")
        allocator.resetPeak()
        #expect(allocator.statistics.peakLiveBytes == 0)
        _ = try allocator.allocate(count: 1 << 10, dtype: .int8)  // from the cache: counted again
        #expect(allocator.statistics.peakLiveBytes == 1 << 10)
    }
}
