/// Loss functions, each averaged over the batch (PyTorch's `reduction="mean"`), computed in
/// `float32` whatever the type of the predictions (16-bit ones are converted first).
public enum Losses {
    /// Mean of the squared differences.
    public static func meanSquaredError(_ prediction: Tensor, _ target: Tensor) throws -> Tensor {
        guard prediction.shape == target.shape else {
            throw CortadoError.shapeMismatch("meanSquaredError: prediction \(prediction.shape) vs target \(target.shape)")
        }
        return try (prediction.to(dtype: .float32) - target.to(dtype: .float32)).square().mean()
    }

    /// Cross-entropy of `[rows, classes]` logits against `int32` labels `[rows]`, from one fused,
    /// numerically stable log-softmax kernel (softmax is applied here, not in the model).
    public static func crossEntropy(logits: Tensor, labels: Tensor) throws -> Tensor {
        try logits.to(dtype: .float32).crossEntropyPerRow(labels: labels).mean()
    }

    /// Binary cross-entropy of logits against targets in [0, 1], computed stably as
    /// `max(x, 0) − x·t + log(1 + e^−|x|)` (sigmoid is applied here, not in the model).
    public static func binaryCrossEntropy(logits: Tensor, targets: Tensor) throws -> Tensor {
        guard logits.shape == targets.shape else {
            throw CortadoError.shapeMismatch("binaryCrossEntropy: logits \(logits.shape) vs targets \(targets.shape)")
        }
        let (logits, targets) = (try logits.to(dtype: .float32), try targets.to(dtype: .float32))
        let softplus = try ((-logits.abs()).exp() + 1).log()
        return try (logits.relu() - logits * targets + softplus).mean()
    }
}
