import Foundation

/// How a layer fills its parameters when created.
///
/// Keras' defaults are ``glorotUniform`` for weights and ``zeros`` for biases; PyTorch's are
/// ``kaimingUniform(a:)`` with `a = √5` for weights and ``fanInUniform`` for biases (both bounded by
/// `1/√fanIn`).
public enum Initializer: Sendable, Equatable {
    /// All zeros.
    case zeros
    /// All ones.
    case ones
    /// Every element `value`.
    case constant(Float)
    /// Uniform on `[low, high)`.
    case uniform(low: Float, high: Float)
    /// Normal with the given mean and standard deviation.
    case normal(mean: Float, std: Float)
    /// Glorot (Xavier) uniform: `U(±√(6 / (fanIn + fanOut)))`.
    /// - Note: Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural networks", 2010.
    case glorotUniform
    /// Kaiming (He) uniform for leaky-ReLU slope `a`: `U(±√(6 / ((1 + a²) · fanIn)))`.
    /// - Note: He et al., "Delving Deep into Rectifiers", 2015.
    case kaimingUniform(a: Float)
    /// Kaiming (He) normal for ReLU: `N(0, √(2 / fanIn))`.
    case kaimingNormal
    /// `U(±1/√fanIn)`: PyTorch's default for biases of linear and convolution layers.
    case fanInUniform
    /// A `[rows, cols…]` matrix with orthonormal rows or columns (whichever are fewer), times `gain`:
    /// Gram–Schmidt on a normal draw, signs fixed as Keras' `Orthogonal` fixes them (its default
    /// for recurrent kernels).
    /// - Note: Saxe et al., "Exact solutions to the nonlinear dynamics of learning in deep linear neural networks", 2014.
    case orthogonal(gain: Float)

    /// A tensor of `shape` filled by this initializer.
    /// - Parameters:
    ///   - fanIn: inputs feeding one output (`in` for a linear layer, `in · kh · kw` for a convolution).
    ///   - fanOut: outputs fed by one input (`out`, or `out · kh · kw`).
    public func make(
        _ shape: [Int], fanIn: Int, fanOut: Int, device: Device? = nil, generator: RandomGenerator? = nil
    ) throws -> Tensor {
        let fanIn = Float(max(fanIn, 1)), fanOut = Float(max(fanOut, 1))
        switch self {
        case .zeros: return try Tensor.zeros(shape, device: device)
        case .ones: return try Tensor.ones(shape, device: device)
        case let .constant(value): return try Tensor.full(shape, value: value, device: device)
        case let .uniform(low, high):
            return try Tensor.uniform(shape, low: low, high: high, device: device, generator: generator)
        case let .normal(mean, std):
            return try Tensor.normal(shape, mean: mean, std: std, device: device, generator: generator)
        case .glorotUniform:
            let bound = (6 / (fanIn + fanOut)).squareRoot()
            return try Tensor.uniform(shape, low: -bound, high: bound, device: device, generator: generator)
        case let .kaimingUniform(a):
            let bound = (6 / ((1 + a * a) * fanIn)).squareRoot()
            return try Tensor.uniform(shape, low: -bound, high: bound, device: device, generator: generator)
        case .kaimingNormal:
            return try Tensor.normal(shape, mean: 0, std: (2 / fanIn).squareRoot(), device: device, generator: generator)
        case .fanInUniform:
            let bound = 1 / fanIn.squareRoot()
            return try Tensor.uniform(shape, low: -bound, high: bound, device: device, generator: generator)
        case let .orthogonal(gain):
            let rows = shape.first ?? 1, cols = shape.dropFirst().reduce(1, *)
            // Orthonormalise the columns of a tall [long, short] draw; transpose back when rows < cols.
            let (long, short) = (max(rows, cols), min(rows, cols))
            let draw = try Tensor.normal([long, short], device: .cpu, generator: generator).toArray()
            let q = Self.orthonormalColumns(draw.map(Double.init), rows: long, cols: short)
            var values = [Float](repeating: 0, count: rows * cols)
            for i in 0..<long {
                for j in 0..<short {
                    let value = Float(q[i * short + j]) * gain
                    if rows >= cols { values[i * cols + j] = value } else { values[j * cols + i] = value }
                }
            }
            return try Tensor(values, shape: shape, device: device)
        }
    }

    /// Modified Gram–Schmidt on the columns of a row-major `[rows, cols]` matrix (`rows ≥ cols`):
    /// the Q of its QR decomposition with R's diagonal made positive.
    private static func orthonormalColumns(_ a: [Double], rows: Int, cols: Int) -> [Double] {
        var q = a
        for j in 0..<cols {
            for previous in 0..<j {
                var dot = 0.0
                for i in 0..<rows { dot += q[i * cols + previous] * q[i * cols + j] }
                for i in 0..<rows { q[i * cols + j] -= dot * q[i * cols + previous] }
            }
            var norm = 0.0
            for i in 0..<rows { norm += q[i * cols + j] * q[i * cols + j] }
            norm = norm.squareRoot()
            for i in 0..<rows { q[i * cols + j] /= max(norm, 1e-30) }
        }
        return q
    }
}
