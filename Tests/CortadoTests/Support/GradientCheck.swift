import Cortado
import Testing

/// Compares the autograd gradients of `f` with central finite differences on `device`.
///
/// The scalar differentiated is `Σ f(inputs) · w` for fixed weights `w`, so every output element
/// matters with a different weight. The finite differences evaluate the same op in float32 and sum
/// the weighted outputs on the host in double precision.
func checkGradients(
    on device: Device, _ inputs: [(values: [Float], shape: [Int])], eps: Float = 1e-2, rtol: Float = 2e-2,
    atol: Float = 2e-3, _ context: String = "", sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Tensor]) throws -> Tensor
) throws {
    let tensors = try inputs.map { try Tensor($0.values, shape: $0.shape, device: device).requiringGrad() }
    let output = try f(tensors)
    let weights = Fixtures.values(output.count, seed: 99, low: -1, high: 1)
    let loss = try (output * Tensor(weights, shape: output.shape, device: device)).sum()
    try loss.backward()

    func weightedSum(_ values: [[Float]]) throws -> Double {
        let probes = try zip(values, inputs).map { try Tensor($0, shape: $1.shape, device: device) }
        let result = try withNoGrad { try f(probes).toArray() }
        return zip(result, weights).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    for (index, input) in inputs.enumerated() {
        guard let analytic = try tensors[index].grad?.toArray() else {
            Issue.record("\(context) input \(index) received no gradient", sourceLocation: sourceLocation)
            continue
        }
        var numeric = [Float](repeating: 0, count: input.values.count)
        for j in input.values.indices {
            var values = inputs.map(\.values)
            values[index][j] = input.values[j] + eps
            let plus = try weightedSum(values)
            values[index][j] = input.values[j] - eps
            let minus = try weightedSum(values)
            numeric[j] = Float((plus - minus) / (2 * Double(eps)))
        }
        assertClose(analytic, numeric, rtol: rtol, atol: atol, "\(context) ∂/∂input\(index) on \(device)",
                    sourceLocation: sourceLocation)
    }
}
