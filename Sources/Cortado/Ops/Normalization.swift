extension Tensor {
    /// Layer normalisation over the last axis, as `torch.nn.functional.layer_norm` with one
    /// normalised dimension: `(x − mean) / sqrt(var + epsilon) · weight + bias`, with the biased
    /// variance. `weight` and `bias` (either may be `nil`) have the last axis' length.
    public func layerNorm(weight: Tensor?, bias: Tensor?, epsilon: Float = 1e-5) throws -> Tensor {
        guard rank >= 1, let width = shape.last, width > 0 else {
            throw CortadoError.invalidArgument("layerNorm: needs a tensor with a non-empty last axis, got shape \(shape)")
        }
        for (name, parameter) in [("weight", weight), ("bias", bias)] {
            if let parameter, parameter.shape != [width] {
                throw CortadoError.shapeMismatch("layerNorm: \(name) has shape \(parameter.shape), expected [\(width)]")
            }
        }
        let centered = try self - mean(axes: [rank - 1], keepingDims: true)
        let variance = try centered.square().mean(axes: [rank - 1], keepingDims: true)
        var y = try centered / (variance + epsilon).sqrt()
        if let weight { y = try y * weight }
        if let bias { y = try y + bias }
        return y
    }
}
