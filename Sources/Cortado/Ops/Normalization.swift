extension Tensor {
    /// Layer normalisation over the last axis, as `torch.nn.functional.layer_norm` with one
    /// normalised dimension: `(x − mean) / sqrt(var + epsilon) · weight + bias`, with the biased
    /// variance. `weight` and `bias` (either may be `nil`) have the last axis' length.
    ///
    /// One fused kernel per pass: the forward pass keeps each row's mean and `1/√(var + epsilon)`,
    /// from which the backward pass gives the input, weight and bias gradients (the latter two
    /// summed over rows in a fixed order, so they are the same on every run).
    public func layerNorm(weight: Tensor?, bias: Tensor?, epsilon: Float = 1e-5) throws -> Tensor {
        guard rank >= 1, let width = shape.last, width > 0 else {
            throw CortadoError.invalidArgument("layerNorm: needs a tensor with a non-empty last axis, got shape \(shape)")
        }
        for (name, parameter) in [("weight", weight), ("bias", bias)] {
            if let parameter, parameter.shape != [width] {
                throw CortadoError.shapeMismatch("layerNorm: \(name) has shape \(parameter.shape), expected [\(width)]")
            }
        }
        for parameter in [weight, bias].compactMap({ $0 }) { try checkSameDevice("layerNorm", parameter) }
        try requireSupport(.layerNorm, "layerNorm", weight, bias)
        let rows = count / width
        let x = try dense().detached()
        let w = try weight?.dense().detached(), b = try bias?.dense().detached()
        let y = try Tensor.empty(shape, dtype: dtype, on: backend)
        let mean = try Tensor.empty([rows], on: backend), rstd = try Tensor.empty([rows], on: backend)
        try backend.layerNorm(
            x.buffer, weight: w?.buffer, bias: b?.buffer, rows: rows, width: width, epsilon: epsilon,
            into: y.buffer, mean: mean.buffer, rstd: rstd.buffer)

        let inputs = [self] + [weight, bias].compactMap { $0 }
        let wantsWeight = weight?.requiresGrad ?? false, wantsBias = bias?.requiresGrad ?? false
        let (hasWeight, hasBias) = (weight != nil, bias != nil)
        return y.recordingGradient("layer_norm", inputs) { gradient in
            let dy = try gradient.dense()
            let backend = x.backend
            let dx = try Tensor.empty(x.shape, dtype: x.dtype, on: backend)
            let dWeight = wantsWeight ? try Tensor.empty([width], dtype: x.dtype, on: backend) : nil
            let dBias = wantsBias ? try Tensor.empty([width], dtype: x.dtype, on: backend) : nil
            try backend.layerNormBackward(
                x.buffer, weight: w?.buffer, mean: mean.buffer, rstd: rstd.buffer, dy: dy.buffer, rows: rows, width: width,
                dx: dx.buffer, dWeight: dWeight?.buffer, dBias: dBias?.buffer)
            return [dx] + (hasWeight ? [dWeight] : []) + (hasBias ? [dBias] : [])
        }
    }
}
