/// A building block of a model: a function of a tensor with named parameters and submodules.
///
/// Conformers list their own parameters and children; the extension derives what PyTorch's
/// `nn.Module` offers: dotted parameter names (`features.0.weight`, stable across runs and used in
/// checkpoints), train/eval mode, moving to a device, gradient clearing.
///
/// ```swift
/// let model = Sequential(Linear(784, 256), ReLU(), Linear(256, 10))
/// let logits = try model(x)
/// ```
public protocol Module: AnyObject {
    /// Applies the module to `input`.
    func callAsFunction(_ input: Tensor) throws -> Tensor
    /// The module's own parameters, by local name, in a fixed order.
    var parameters: [(name: String, parameter: Parameter)] { get }
    /// The module's direct submodules, by local name, in a fixed order.
    var children: [(name: String, module: any Module)] { get }
    /// Whether the module computes as in training (dropout active, batch statistics) or evaluation.
    var isTraining: Bool { get set }
}

extension Module {
    /// No parameters of its own.
    public var parameters: [(name: String, parameter: Parameter)] { [] }
    /// No submodules.
    public var children: [(name: String, module: any Module)] { [] }

    /// Every parameter of the module tree with its dotted name (`child.grandchild.weight`).
    public func namedParameters() -> [(name: String, parameter: Parameter)] {
        var result = parameters
        for (childName, child) in children {
            result += child.namedParameters().map { ("\(childName).\($0.name)", $0.parameter) }
        }
        return result
    }

    /// The parameters that optimizers update.
    public func trainableParameters() -> [(name: String, parameter: Parameter)] {
        namedParameters().filter { $0.parameter.isTrainable }
    }

    /// The number of trainable scalars.
    public var parameterCount: Int {
        trainableParameters().reduce(0) { $0 + $1.parameter.value.count }
    }

    /// Switches the whole tree to training mode.
    public func train() {
        setTraining(true)
    }

    /// Switches the whole tree to evaluation mode.
    public func eval() {
        setTraining(false)
    }

    private func setTraining(_ flag: Bool) {
        isTraining = flag
        for (_, child) in children { child.setTraining(flag) }
    }

    /// Moves every parameter to `device`.
    public func move(to device: Device) throws {
        for (_, parameter) in namedParameters() { try parameter.move(to: device) }
    }

    /// Stores every floating-point parameter in `dtype`, for inference in that precision: layers
    /// computing in `dtype` (``withComputeType(_:_:)``) then use the weights as they are instead of
    /// converting them on every call. Not for training (the master weights would be lost).
    public func convertWeights(to dtype: DType) throws {
        for (_, parameter) in namedParameters() where parameter.value.dtype.isFloatingPoint {
            try parameter.convert(to: dtype)
        }
    }

    /// Clears every parameter's gradient.
    public func zeroGrad() {
        for (_, parameter) in namedParameters() { parameter.zeroGrad() }
    }

    /// The device holding the parameters (`nil` for a module without any).
    public var device: Device? {
        namedParameters().first?.parameter.value.device
    }

    /// Every parameter and state tensor by dotted name, as a checkpoint stores them.
    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        namedParameters().map { ($0.name, $0.parameter.value) }
    }

    /// Replaces every parameter with the tensor of the same name; throws naming the first missing
    /// or misshaped tensor (leaving the module unchanged).
    public func loadState(_ tensors: [String: Tensor]) throws {
        let assignments = try namedParameters().map { name, parameter -> (Parameter, Tensor) in
            guard let tensor = tensors[name] else {
                throw CortadoError.shapeMismatch("missing tensor '\(name)' (expected shape \(parameter.value.shape))")
            }
            guard tensor.shape == parameter.value.shape else {
                throw CortadoError.shapeMismatch("tensor '\(name)' has shape \(tensor.shape), the model expects \(parameter.value.shape)")
            }
            return (parameter, tensor)
        }
        for (parameter, tensor) in assignments { try parameter.replace(with: tensor) }
    }
}
