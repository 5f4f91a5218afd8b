import Cortado

extension Module {
    /// Static activation scales for int8 inference (post-training calibration): runs `body` (the
    /// float model's forward passes over a few batches) while every ``Linear`` and ``Conv2D`` records
    /// the largest absolute value of its inputs, and returns each layer's scales for `scheme`,
    /// float32 `[blocks]` with `scale = largest / 127` (what ``QuantizedMatrix/withInputScales(_:)``
    /// takes). A Linear's blocks are its input's columns as `scheme` groups them; a convolution, whose
    /// int8 rows are patches of its input, gets one value (its input's largest) for every block. A
    /// block that only ever saw zeros takes its layer's largest value (1 if all were zero).
    /// - Returns: the scales by dotted layer name (as ``quantizableLayers()`` names them).
    /// - Throws: ``CortadoError/invalidArgument(_:)`` when an input holds NaN or infinity, or no
    ///   layer saw an input.
    public func calibrateInputScales(_ scheme: QuantizationScheme, running body: () throws -> Void) throws -> [String: Tensor] {
        let layers = quantizableLayers()
        var maxima: [String: Tensor] = [:]
        for (name, layer) in layers {
            let columns = layer.weightMatrixShape[1]
            let (block, blocks) = (scheme.block(columns: columns), scheme.blocks(columns: columns))
            let rows = layer.quantizesInputRows
            layer.observeInputs { x in
                let largest = try withNoGrad { () throws -> Tensor in
                    let magnitude = try x.to(dtype: .float32).abs()
                    guard rows else { return try magnitude.max().reshaped([1]).expanded(to: [blocks]).contiguous() }
                    var perColumn = try magnitude.reshaped([x.count / columns, columns]).max(axes: [0])
                    if blocks * block != columns {
                        perColumn = try Tensor.concat([perColumn, Tensor.zeros([blocks * block - columns], device: x.device)], axis: 0)
                    }
                    return try perColumn.reshaped([blocks, block]).max(axes: [1])
                }
                maxima[name] = try maxima[name].map { try $0.maximum(largest) } ?? largest
            }
        }
        defer { for (_, layer) in layers { layer.observeInputs(nil) } }
        try body()
        guard !maxima.isEmpty else { throw CortadoError.invalidArgument("calibration: no Linear or Conv2D layer saw an input") }
        var scales: [String: Tensor] = [:]
        for (name, largest) in maxima {
            let values = try largest.toArray()
            guard values.allSatisfy(\.isFinite) else {
                throw CortadoError.invalidArgument("calibration: the inputs of layer '\(name)' hold NaN or infinity")
            }
            let fallback = values.max().flatMap { $0 > 0 ? $0 : nil } ?? 1
            scales[name] = try Tensor(values.map { ($0 > 0 ? $0 : fallback) / 127 }, shape: [values.count], device: largest.device)
        }
        return scales
    }
}

extension Module {
    /// The largest absolute input of every ``Linear`` per input column while `body` runs (the float
    /// model's forward passes over calibration data): what SmoothQuant's smoothing
    /// (``QuantizedMatrix/init(quantizing:scheme:smoothing:strength:)``) takes.
    /// - Returns: float32 `[inputs]` by dotted layer name, for the Linear layers that saw an input.
    /// - Throws: ``CortadoError/invalidArgument(_:)`` when an input holds NaN or infinity, or no
    ///   layer saw an input.
    public func calibrateInputColumnMaxima(running body: () throws -> Void) throws -> [String: Tensor] {
        let layers = quantizableLayers().filter { $0.layer.quantizesInputRows }
        var maxima: [String: Tensor] = [:]
        for (name, layer) in layers {
            let columns = layer.weightMatrixShape[1]
            layer.observeInputs { x in
                let largest = try withNoGrad {
                    try x.to(dtype: .float32).abs().reshaped([x.count / columns, columns]).max(axes: [0])
                }
                maxima[name] = try maxima[name].map { try $0.maximum(largest) } ?? largest
            }
        }
        defer { for (_, layer) in layers { layer.observeInputs(nil) } }
        try body()
        guard !maxima.isEmpty else { throw CortadoError.invalidArgument("calibration: no Linear layer saw an input") }
        for (name, largest) in maxima where try !largest.toArray().allSatisfy(\.isFinite) {
            throw CortadoError.invalidArgument("calibration: the inputs of layer '\(name)' hold NaN or infinity")
        }
        return maxima
    }
}
