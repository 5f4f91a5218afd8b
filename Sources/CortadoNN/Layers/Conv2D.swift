/// A 2-D convolution over NCHW input with OIHW weights (PyTorch's Conv2d, Keras' Conv2D).
public final class Conv2D: Module {
    /// `[outChannels, inChannels, kernelHeight, kernelWidth]`.
    public let weight: Parameter
    /// `[outChannels]`, or `nil`.
    public let bias: Parameter?
    /// Step between windows.
    public let stride: Size2D
    /// Zeros added on each side.
    public let padding: Size2D
    /// Spacing between kernel taps.
    public let dilation: Size2D
    /// Training or evaluation mode (no effect on this layer).
    public var isTraining = true
    /// The int8 weight `[outChannels, inChannels·kernelHeight·kernelWidth]` the layer computes with
    /// once quantised (``quantize(_:)``); `nil`: float.
    public internal(set) var quantizedWeight: QuantizedMatrix?
    /// Sees every input of the float layer while calibration runs (``Module/calibrateInputScales(_:running:)``).
    var inputObserver: ((Tensor) throws -> Void)?

    /// Creates a convolution with Keras-default initialisation (Glorot uniform, zero bias).
    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: Size2D, stride: Size2D = 1, padding: Size2D = 0,
        dilation: Size2D = 1, bias: Bool = true, weightInitializer: Initializer = .glorotUniform,
        biasInitializer: Initializer = .zeros, device: Device? = nil, generator: RandomGenerator? = nil
    ) throws {
        guard inChannels > 0, outChannels > 0, kernelSize.height > 0, kernelSize.width > 0 else {
            throw CortadoError.invalidArgument("Conv2D(\(inChannels), \(outChannels), kernel \(kernelSize)): sizes must be positive")
        }
        let taps = kernelSize.height * kernelSize.width
        let (fanIn, fanOut) = (inChannels * taps, outChannels * taps)
        weight = try Parameter(weightInitializer.make(
            [outChannels, inChannels, kernelSize.height, kernelSize.width], fanIn: fanIn, fanOut: fanOut,
            device: device, generator: generator))
        self.bias = bias ? try Parameter(biasInitializer.make(
            [outChannels], fanIn: fanIn, fanOut: fanOut, device: device, generator: generator)) : nil
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    /// The layer's weight and bias.
    public var parameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// Convolves NCHW `x`.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        if let quantizedWeight {
            let shape = weight.value.shape
            return try x.to(dtype: .float32).quantizedConv2d(
                weight: quantizedWeight, kernel: Size2D(shape[2], shape[3]), bias: bias?.value.to(dtype: .float32),
                stride: stride, padding: padding, dilation: dilation)
        }
        try inputObserver?(x)
        return try x.inComputeType().conv2d(
            weight: weight.computeValue, bias: bias?.computeValue, stride: stride, padding: padding, dilation: dilation)
    }
}
