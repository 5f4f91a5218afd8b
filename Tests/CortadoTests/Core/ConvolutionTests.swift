import Cortado
import Testing

@Suite("Convolution and pooling")
struct ConvolutionTests {
    struct ConvCase: CustomStringConvertible {
        var input: [Int], weight: [Int], stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), bias: Bool
        var description: String { "x\(input) w\(weight) s\(stride) p\(padding) d\(dilation) bias \(bias)" }
    }

    /// The seed CNN's layer, LeNet's layers, and stride/padding/dilation/odd-size tails.
    static let cases: [ConvCase] = [
        ConvCase(input: [2, 1, 28, 28], weight: [32, 1, 3, 3], stride: (1, 1), padding: (0, 0), dilation: (1, 1), bias: true),
        ConvCase(input: [2, 1, 28, 28], weight: [6, 1, 5, 5], stride: (1, 1), padding: (2, 2), dilation: (1, 1), bias: true),
        ConvCase(input: [2, 6, 14, 14], weight: [16, 6, 5, 5], stride: (1, 1), padding: (0, 0), dilation: (1, 1), bias: false),
        ConvCase(input: [3, 2, 9, 7], weight: [5, 2, 3, 2], stride: (2, 3), padding: (1, 1), dilation: (1, 1), bias: true),
        ConvCase(input: [1, 3, 11, 10], weight: [4, 3, 3, 3], stride: (1, 2), padding: (2, 1), dilation: (2, 3), bias: true),
        ConvCase(input: [1, 1, 1, 1], weight: [1, 1, 1, 1], stride: (1, 1), padding: (0, 0), dilation: (1, 1), bias: true),
    ]

    @Test("conv2d matches a direct convolution", arguments: TestDevices.all)
    func forward(device: Device) throws {
        for c in Self.cases {
            let x = Fixtures.values(c.input.reduce(1, *), seed: 61)
            let w = Fixtures.values(c.weight.reduce(1, *), seed: 62)
            let b = c.bias ? Fixtures.values(c.weight[0], seed: 63) : nil
            let expected = Reference.conv2d(x, c.input, w, c.weight, bias: b, stride: c.stride, padding: c.padding, dilation: c.dilation)
            let out = try Tensor(x, shape: c.input, device: device).conv2d(
                weight: Tensor(w, shape: c.weight, device: device), bias: b.map { try Tensor($0, device: device) },
                stride: Size2D(c.stride.0, c.stride.1), padding: Size2D(c.padding.0, c.padding.1),
                dilation: Size2D(c.dilation.0, c.dilation.1))
            try assertClose(out, expected.values, shape: expected.shape, rtol: 1e-4, atol: 1e-5, c.description)
        }
    }

    @Test("conv2d gradients match finite differences", arguments: TestDevices.all)
    func gradients(device: Device) throws {
        let small: [ConvCase] = [
            ConvCase(input: [2, 2, 5, 4], weight: [3, 2, 3, 2], stride: (1, 1), padding: (1, 0), dilation: (1, 1), bias: true),
            ConvCase(input: [1, 1, 7, 6], weight: [2, 1, 2, 3], stride: (2, 1), padding: (1, 2), dilation: (2, 1), bias: true),
        ]
        for c in small {
            let x = Fixtures.values(c.input.reduce(1, *), seed: 64)
            let w = Fixtures.values(c.weight.reduce(1, *), seed: 65)
            let b = Fixtures.values(c.weight[0], seed: 66)
            try checkGradients(on: device, [(x, c.input), (w, c.weight), (b, [c.weight[0]])], c.description) {
                try $0[0].conv2d(weight: $0[1], bias: $0[2], stride: Size2D(c.stride.0, c.stride.1),
                                 padding: Size2D(c.padding.0, c.padding.1), dilation: Size2D(c.dilation.0, c.dilation.1))
            }
        }
    }

    static let poolCases: [(input: [Int], kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int))] = [
        ([2, 3, 26, 26], (2, 2), (2, 2), (0, 0)),  // the seed CNN
        ([1, 2, 7, 9], (3, 3), (2, 2), (1, 1)),    // overlapping windows with padding
        ([1, 1, 5, 5], (3, 2), (1, 2), (0, 1)),
    ]

    @Test("max and average pooling match direct loops", arguments: TestDevices.all)
    func pooling(device: Device) throws {
        for c in Self.poolCases {
            let x = Fixtures.values(c.input.reduce(1, *), seed: 67, low: -2, high: 2)
            let t = try Tensor(x, shape: c.input, device: device)
            let (kernel, stride, padding) = (Size2D(c.kernel.0, c.kernel.1), Size2D(c.stride.0, c.stride.1), Size2D(c.padding.0, c.padding.1))
            let maxRef = Reference.pool2d(x, c.input, kernel: c.kernel, stride: c.stride, padding: c.padding, max: true)
            let avgRef = Reference.pool2d(x, c.input, kernel: c.kernel, stride: c.stride, padding: c.padding, max: false)
            try assertClose(t.maxPool2d(kernelSize: kernel, stride: stride, padding: padding), maxRef.values, shape: maxRef.shape)
            try assertClose(t.avgPool2d(kernelSize: kernel, stride: stride, padding: padding), avgRef.values, shape: avgRef.shape,
                            rtol: 1e-5, atol: 1e-6)
        }
    }

    @Test("pooling gradients match finite differences", arguments: TestDevices.all)
    func poolingGradients(device: Device) throws {
        for c in Self.poolCases.dropFirst() {
            let x = Fixtures.distinct(c.input.reduce(1, *), seed: 68)
            let (kernel, stride, padding) = (Size2D(c.kernel.0, c.kernel.1), Size2D(c.stride.0, c.stride.1), Size2D(c.padding.0, c.padding.1))
            try checkGradients(on: device, [(x, c.input)], eps: 1e-3, "max \(c.input)") {
                try $0[0].maxPool2d(kernelSize: kernel, stride: stride, padding: padding)
            }
            try checkGradients(on: device, [(x, c.input)], eps: 1e-3, "avg \(c.input)") {
                try $0[0].avgPool2d(kernelSize: kernel, stride: stride, padding: padding)
            }
        }
    }

    @Test("bad convolution and pooling arguments are errors", arguments: TestDevices.all)
    func badArguments(device: Device) throws {
        let x = try Tensor.zeros([1, 2, 4, 4], device: device)
        #expect(throws: CortadoError.self) { try x.conv2d(weight: Tensor.zeros([3, 1, 3, 3], device: device)) }
        #expect(throws: CortadoError.self) { try x.conv2d(weight: Tensor.zeros([3, 2, 5, 5], device: device)) }
        #expect(throws: CortadoError.self) { try x.conv2d(weight: Tensor.zeros([3, 2, 3, 3], device: device), stride: 0) }
        #expect(throws: CortadoError.self) { try x.maxPool2d(kernelSize: 2, padding: 2) }
        #expect(throws: CortadoError.self) { try x.avgPool2d(kernelSize: 5) }
    }
}
