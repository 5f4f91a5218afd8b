/// A tensor a module owns: a trainable weight (gradients flow to it) or non-trainable state such as
/// BatchNorm's running statistics.
///
/// The box is what the module keeps; its ``value`` is replaced when the model moves to another
/// device or loads a checkpoint, and updated in place by optimizers.
public final class Parameter {
    /// The current tensor (dense; a gradient-requiring leaf when trainable).
    public private(set) var value: Tensor
    /// Whether optimizers update it (false for running statistics and other state).
    public let isTrainable: Bool

    /// Wraps `value`, copying it into dense memory if it is a view.
    public init(_ value: Tensor, trainable: Bool = true) throws {
        self.isTrainable = trainable
        self.value = try Parameter.prepare(value, trainable: trainable)
    }

    /// The gradient accumulated by the last backward passes, if any.
    public var gradient: Tensor? { value.grad }

    /// Replaces the value (same shape), e.g. with a loaded tensor or new running statistics.
    public func replace(with newValue: Tensor) throws {
        guard newValue.shape == value.shape else {
            throw CortadoError.shapeMismatch("parameter of shape \(value.shape) cannot take a tensor of shape \(newValue.shape)")
        }
        value = try Parameter.prepare(newValue.to(value.device), trainable: isTrainable)
    }

    /// Replaces the value with its conversion to `dtype` (see ``Module/convertWeights(to:)``).
    public func convert(to dtype: DType) throws {
        if value.dtype != dtype { value = try Parameter.prepare(value.to(dtype: dtype), trainable: isTrainable) }
    }

    /// Moves the value to `device`.
    public func move(to device: Device) throws {
        if value.device != device { value = try Parameter.prepare(value.to(device), trainable: isTrainable) }
    }

    /// Clears the gradient.
    public func zeroGrad() {
        value.zeroGrad()
    }

    private static func prepare(_ tensor: Tensor, trainable: Bool) throws -> Tensor {
        let leaf = try withNoGrad { try tensor.dense() }.detached()
        return leaf.requiringGrad(trainable)
    }
}
