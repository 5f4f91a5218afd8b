/// A layer whose weight can be int8 (dynamic quantisation: weights quantised once, activations
/// per row at run time): ``Linear`` and ``Conv2D``.
public protocol QuantizableLayer: Module {
    /// The float weight (kept: it is what a float checkpoint holds and what training updates).
    var weight: Parameter { get }
    /// The int8 weight the layer computes with, or `nil` for float.
    var quantizedWeight: QuantizedMatrix? { get }
    /// Computes with `weight` from now on (`nil`: back to float). Its shape must be the float
    /// weight's as a matrix `[outputs, inputs per output]`.
    func useQuantizedWeight(_ weight: QuantizedMatrix?) throws
    /// Calls `observer` with every input the float layer computes on (`nil`: stop).
    func observeInputs(_ observer: ((Tensor) throws -> Void)?)
    /// Whether the layer's int8 input rows are its input's last dimension (a Linear), rather than
    /// patches gathered from it (a convolution's).
    var quantizesInputRows: Bool { get }
}

extension QuantizableLayer {
    /// The float weight as the matrix an int8 weight replaces: `[outputs, inputs per output]`.
    public var weightMatrixShape: [Int] {
        let shape = weight.value.shape
        return [shape[0], shape.dropFirst().reduce(1, *)]
    }

    /// The fewest inputs per output channel for which a convolution gains from int8: below it,
    /// gathering, quantising and re-laying out its patches costs more than the int8 products save
    /// (the cnn's first convolution, 9 inputs per output, made an all-int8 cnn evaluate at 0.86×
    /// float32's speed; with it float, 1.15×).
    public static var smallestInt8ConvolutionInputs: Int { 32 }

    /// Whether the layer gains from computing in int8: a Linear always, a convolution with at least
    /// ``smallestInt8ConvolutionInputs`` inputs per output channel.
    public var gainsFromInt8: Bool { quantizesInputRows || weightMatrixShape[1] >= Self.smallestInt8ConvolutionInputs }

    /// Quantises the float weight with `scheme` and computes with it from now on.
    public func quantize(_ scheme: QuantizationScheme) throws {
        let matrix = try weight.value.reshaped(weightMatrixShape)
        try useQuantizedWeight(QuantizedMatrix(quantizing: matrix, scheme: scheme))
    }

    /// Throws unless `weight` fits this layer.
    func checkQuantizedShape(_ weight: QuantizedMatrix?) throws {
        if let weight, weight.values.shape != weightMatrixShape {
            throw CortadoError.shapeMismatch(
                "int8 weight \(weight.values.shape) for a layer whose weight is \(self.weight.value.shape) (expected \(weightMatrixShape))")
        }
    }
}

extension Linear: QuantizableLayer {
    /// Computes with `weight` (`[outputs, inputs]`) from now on (`nil`: back to float).
    public func useQuantizedWeight(_ weight: QuantizedMatrix?) throws {
        try checkQuantizedShape(weight)
        quantizedWeight = weight
    }

    /// Calls `observer` with every input from now on (`nil`: stop).
    public func observeInputs(_ observer: ((Tensor) throws -> Void)?) { inputObserver = observer }

    /// A Linear quantises the rows of its input's last dimension.
    public var quantizesInputRows: Bool { true }
}

extension Conv2D: QuantizableLayer {
    /// Computes with `weight` (`[outChannels, inChannels·kernelHeight·kernelWidth]`) from now on
    /// (`nil`: back to float).
    public func useQuantizedWeight(_ weight: QuantizedMatrix?) throws {
        try checkQuantizedShape(weight)
        quantizedWeight = weight
    }

    /// Calls `observer` with every input from now on (`nil`: stop).
    public func observeInputs(_ observer: ((Tensor) throws -> Void)?) { inputObserver = observer }

    /// A convolution quantises patches gathered from its input.
    public var quantizesInputRows: Bool { false }
}

extension Module {
    /// Every ``Linear`` and ``Conv2D`` of the module tree with its dotted name (`encoder.0.output`),
    /// in the order of ``namedParameters()``.
    public func quantizableLayers() -> [(name: String, layer: any QuantizableLayer)] {
        var result: [(name: String, layer: any QuantizableLayer)] = []
        if let layer = self as? any QuantizableLayer { result.append(("", layer)) }
        for (childName, child) in children {
            result += child.quantizableLayers().map { ($0.name.isEmpty ? childName : "\(childName).\($0.name)", $0.layer) }
        }
        return result
    }

    /// Quantises the weights of every ``Linear`` and ``Conv2D`` layer to int8 with `scheme`, except
    /// the layers `keepingFloat` names (by dotted name) and those that do not gain from it
    /// (``QuantizableLayer/gainsFromInt8``), which stay float. LayerNorm, embeddings, recurrent
    /// layers and losses are not touched.
    /// - Returns: the names of the layers now computing in int8.
    @discardableResult
    public func quantizeLinearLayers(
        _ scheme: QuantizationScheme = .perChannel, keepingFloat: (String) -> Bool = { _ in false }
    ) throws -> [String] {
        var quantized: [String] = []
        for (name, layer) in quantizableLayers() where !keepingFloat(name) && layer.gainsFromInt8 {
            try layer.quantize(scheme)
            quantized.append(name)
        }
        return quantized
    }
}
