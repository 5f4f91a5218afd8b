/// max(x, 0) as a layer.
public final class ReLU: Module {
    /// Training or evaluation mode (no effect).
    public var isTraining = true
    /// Creates the layer.
    public init() {}
    /// Applies the activation.
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.relu() }
}

/// The logistic sigmoid as a layer.
public final class Sigmoid: Module {
    /// Training or evaluation mode (no effect).
    public var isTraining = true
    /// Creates the layer.
    public init() {}
    /// Applies the activation.
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.sigmoid() }
}

/// The hyperbolic tangent as a layer.
public final class Tanh: Module {
    /// Training or evaluation mode (no effect).
    public var isTraining = true
    /// Creates the layer.
    public init() {}
    /// Applies the activation.
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.tanh() }
}

/// The exact (erf) GELU as a layer.
public final class GELU: Module {
    /// Training or evaluation mode (no effect).
    public var isTraining = true
    /// Creates the layer.
    public init() {}
    /// Applies the activation.
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.gelu() }
}

/// Softmax along an axis as a layer (for outputs read as probabilities; losses take logits).
public final class Softmax: Module {
    /// The axis normalised.
    public let axis: Int
    /// Training or evaluation mode (no effect).
    public var isTraining = true
    /// Creates the layer.
    public init(axis: Int = -1) { self.axis = axis }
    /// Applies the softmax.
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.softmax(axis: axis) }
}
