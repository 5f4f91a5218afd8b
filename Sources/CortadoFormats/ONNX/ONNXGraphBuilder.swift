import Foundation
import SwiftProtobuf

/// Builds an ONNX graph node by node: initializers from Cortado tensors, nodes with unique output
/// names, and the graph's named inputs and outputs.
struct ONNXGraphBuilder {
    /// ONNX `TensorProto.DataType` values used here.
    enum ElementType: Int32 {
        case float = 1
        case int64 = 7
    }

    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private(set) var inputs: [Onnx_ValueInfoProto] = []
    private(set) var outputs: [Onnx_ValueInfoProto] = []
    private var used: Set<String> = []

    /// A name not used yet, built from `hint`.
    mutating func unique(_ hint: String) -> String {
        var name = hint, index = 1
        while used.contains(name) {
            index += 1
            name = "\(hint)_\(index)"
        }
        used.insert(name)
        return name
    }

    /// Declares a graph input; a dimension is fixed (`.value`) or named and dynamic (`.symbol`).
    mutating func input(_ name: String, _ type: ElementType, _ dims: [Dimension]) -> String {
        used.insert(name)
        inputs.append(Self.valueInfo(name, type, dims))
        return name
    }

    /// Declares `value` (renamed to `name` through an Identity node) as a graph output.
    mutating func output(_ value: String, as name: String, _ type: ElementType, _ dims: [Dimension]) {
        used.insert(name)
        var node = Onnx_NodeProto()
        node.opType = "Identity"
        node.name = "output_\(name)"
        node.input = [value]
        node.output = [name]
        nodes.append(node)
        outputs.append(Self.valueInfo(name, type, dims))
    }

    /// A float initializer.
    mutating func constant(_ hint: String, _ values: [Float], shape: [Int]) -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = unique(hint)
        tensor.dataType = ElementType.float.rawValue
        tensor.dims = shape.map(Int64.init)
        tensor.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
        initializers.append(tensor)
        return tensor.name
    }

    /// An int64 initializer (shapes, axes, indices).
    mutating func constant(_ hint: String, int64 values: [Int64], shape: [Int]? = nil) -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = unique(hint)
        tensor.dataType = ElementType.int64.rawValue
        tensor.dims = (shape ?? [values.count]).map(Int64.init)
        tensor.int64Data = values
        initializers.append(tensor)
        return tensor.name
    }

    /// The values of a Cortado tensor (read back as float32) as an initializer of its shape.
    mutating func constant(_ hint: String, _ tensor: Tensor) throws -> String {
        constant(hint, try tensor.toArray(), shape: tensor.shape)
    }

    /// Adds a node and returns its outputs' names.
    @discardableResult
    mutating func node(
        _ op: String, _ inputs: [String], outputs count: Int = 1, name hint: String, attributes: [Onnx_AttributeProto] = []
    ) -> [String] {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = unique("\(hint)/\(op)")
        node.input = inputs
        node.output = (0..<count).map { unique("\(hint)/\(op)_out\($0)") }
        node.attribute = attributes
        nodes.append(node)
        return node.output
    }

    /// Adds a node with one output and returns its name.
    mutating func op(_ op: String, _ inputs: [String], name hint: String, attributes: [Onnx_AttributeProto] = []) -> String {
        node(op, inputs, name: hint, attributes: attributes)[0]
    }

    /// An integer attribute.
    static func attribute(_ name: String, int value: Int) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = Int64(value)
        return attribute
    }

    /// A float attribute.
    static func attribute(_ name: String, float value: Float) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .float
        attribute.f = value
        return attribute
    }

    /// An integer-list attribute.
    static func attribute(_ name: String, ints values: [Int]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .ints
        attribute.ints = values.map(Int64.init)
        return attribute
    }

    /// A dimension of a graph input or output.
    enum Dimension {
        /// A fixed size.
        case value(Int)
        /// A dynamic size with a name (`batch`, `sequence`).
        case symbol(String)
    }

    private static func valueInfo(_ name: String, _ type: ElementType, _ dims: [Dimension]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { dimension in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch dimension {
            case let .value(size): dim.dimValue = Int64(size)
            case let .symbol(symbol): dim.dimParam = symbol
            }
            return dim
        }
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = type.rawValue
        tensorType.shape = shape
        var typeProto = Onnx_TypeProto()
        typeProto.tensorType = tensorType
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = typeProto
        return info
    }

    /// The model: this graph with opset `opset` of the default domain.
    func model(graphName: String, opset: Int, metadata: [String: String]) -> Onnx_ModelProto {
        var graph = Onnx_GraphProto()
        graph.name = graphName
        graph.node = nodes
        graph.initializer = initializers
        graph.input = inputs
        graph.output = outputs
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "cortado"
        model.producerVersion = "1"
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = ""
        opsetID.version = Int64(opset)
        model.opsetImport = [opsetID]
        model.graph = graph
        model.metadataProps = metadata.sorted { $0.key < $1.key }.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        return model
    }
}
