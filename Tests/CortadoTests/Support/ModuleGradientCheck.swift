import Cortado
import CortadoNN
import Testing

/// Compares a module's autograd gradients (input and every trainable parameter) with central
/// finite differences of `Σ module(x) · w` on the input's device, probing up to `maxProbes`
/// evenly spaced elements of each tensor.
func checkModuleGradients(
    _ module: any Module, input: Tensor, eps: Float = 1e-2, rtol: Float = 2e-2, atol: Float = 2e-3,
    maxProbes: Int = 24, _ context: String = "", sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let device = input.device
    let x = input.detached().requiringGrad(input.dtype == .float32)
    let output = try module(x)
    let weights = Fixtures.values(output.count, seed: 123)
    module.zeroGrad()
    try (output * Tensor(weights, shape: output.shape, device: device)).sum().backward()

    /// Σ module(input) · w, accumulated in double on the host.
    func loss(_ input: Tensor) throws -> Double {
        let values = try withNoGrad { try module(input).toArray() }
        return zip(values, weights).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }
    /// Central differences of the loss at the probed elements of `values`; `evaluate` computes the
    /// loss with the tensor set to the given values.
    func numeric(_ values: [Float], _ evaluate: ([Float]) throws -> Double) throws -> (indices: [Int], slopes: [Float]) {
        let indices = Array(stride(from: 0, to: values.count, by: max(values.count / maxProbes, 1)))
        let slopes = try indices.map { j -> Float in
            var perturbed = values
            perturbed[j] = values[j] + eps
            let plus = try evaluate(perturbed)
            perturbed[j] = values[j] - eps
            let minus = try evaluate(perturbed)
            return Float((plus - minus) / (2 * Double(eps)))
        }
        return (indices, slopes)
    }

    if input.dtype == .float32, let analytic = try x.grad?.toArray() {
        let values = try input.toArray()
        let (indices, slopes) = try numeric(values) { try loss(Tensor($0, shape: input.shape, device: device)) }
        assertClose(indices.map { analytic[$0] }, slopes, rtol: rtol, atol: atol,
                    "\(context) ∂/∂input on \(device)", sourceLocation: sourceLocation)
    }
    for (name, parameter) in module.trainableParameters() {
        guard let analytic = try parameter.gradient?.toArray() else {
            Issue.record("\(context) parameter \(name) received no gradient", sourceLocation: sourceLocation)
            continue
        }
        let values = try parameter.value.toArray()
        let shape = parameter.value.shape
        let (indices, slopes) = try numeric(values) {
            try parameter.replace(with: Tensor($0, shape: shape, device: device))
            return try loss(input)
        }
        try parameter.replace(with: Tensor(values, shape: shape, device: device))
        assertClose(indices.map { analytic[$0] }, slopes, rtol: rtol, atol: atol,
                    "\(context) ∂/∂\(name) on \(device)", sourceLocation: sourceLocation)
    }
}
