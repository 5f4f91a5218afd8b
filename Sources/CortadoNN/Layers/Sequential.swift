/// Modules applied one after another; children are named `0`, `1`, … (as PyTorch's Sequential).
public final class Sequential: Module {
    /// The modules in order.
    public let layers: [any Module]
    /// Training or evaluation mode (set on the children by ``Module/train()`` and ``Module/eval()``).
    public var isTraining = true

    /// Chains `layers`.
    public init(_ layers: [any Module]) {
        self.layers = layers
    }

    /// Chains `layers`.
    public convenience init(_ layers: any Module...) {
        self.init(layers)
    }

    /// The layers, named by position.
    public var children: [(name: String, module: any Module)] {
        layers.enumerated().map { ("\($0.offset)", $0.element) }
    }

    /// Applies each layer to the previous one's output; while a ``Profiler`` records, each layer
    /// is a span of category `layer` named by its position and type (`0 Conv2D`).
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard Profiler.current != nil else { return try layers.reduce(x) { try $1($0) } }
        var output = x
        for (index, layer) in layers.enumerated() {
            output = try profiled("\(index) \(type(of: layer))", category: "layer") { try layer(output) }
        }
        return output
    }
}
