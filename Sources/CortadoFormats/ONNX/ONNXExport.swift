import Foundation
import SwiftProtobuf

/// Exports Cortado models as ONNX files (opset 17), for ONNX Runtime and the tools that read ONNX.
///
/// Every built-in model exports from its checkpoint: `linear`, `mlp`, `cnn`, `lenet` take `input`
/// (float, `[batch, features]` or `[batch, channels, height, width]`, scaled as Cortado's loaders
/// scale them: pixels to [0, 1], CSV features raw, standardised inside the graph with the
/// checkpoint's training statistics); `lstm` and `gru` take `input_ids` (int64 `[batch, sequence]`,
/// the ids of the checkpoint's tokenizer); `bert-classifier` takes `input_ids` and
/// `attention_mask` (int64 `[batch, sequence]`). Classifiers output `logits` and `probabilities`
/// (softmax, or sigmoid for one output), regression `prediction`. A Hugging Face BERT encoder
/// exports with `input_ids` and `attention_mask` and outputs `last_hidden_state` and
/// `sentence_embedding` (mean-pooled over the real tokens, L2-normalised, as `cortado embed`).
/// The batch and sequence dimensions are dynamic. Half-precision checkpoints export in float32
/// (their weights widen exactly); other weight types are refused.
public enum ONNXExport {
    /// The ONNX operator set the files use.
    public static let opset = 17

    /// What an export wrote.
    public struct Summary: Sendable, Equatable {
        /// The graph's input names.
        public var inputs: [String]
        /// The graph's output names.
        public var outputs: [String]
        /// Nodes in the graph.
        public var nodes: Int
        /// The file's size in bytes.
        public var bytes: Int
    }

    /// Exports the model of the Cortado checkpoint at `checkpoint` to `output` (written atomically).
    /// - Throws: ``FormatError`` or `CheckpointError` naming the file and the problem.
    @discardableResult
    public static func export(checkpoint: URL, to output: URL) throws -> Summary {
        let file = try ModelCheckpoint(contentsOf: checkpoint)
        let model = try onnxModel(checkpoint: file)
        return try write(model, to: output)
    }

    /// Exports the encoder of the Hugging Face BERT-family directory `directory` to `output`.
    @discardableResult
    public static func export(encoderDirectory directory: String, to output: URL) throws -> Summary {
        let pretrained = try PretrainedModelDirectory(path: directory)
        let encoder = try pretrained.loadEncoder(device: .cpu)
        var builder = ONNXGraphBuilder()
        let (ids, mask) = textInputs(&builder, masked: true)
        let maskFloat = builder.op("Cast", [mask!], name: "mask", attributes: [ONNXGraphBuilder.attribute("to", int: 1)])
        let hidden = try bert(&builder, encoder, ids: ids, maskFloat: maskFloat)
        let pooled = meanPool(&builder, hidden, maskFloat: maskFloat)
        let squares = builder.op("Mul", [pooled, pooled], name: "l2")
        let sum = builder.op("ReduceSum", [squares, builder.constant("l2_axes", int64: [1])], name: "l2",
                             attributes: [ONNXGraphBuilder.attribute("keepdims", int: 1)])
        let norm = builder.op("Max", [builder.op("Sqrt", [sum], name: "l2"), builder.constant("l2_epsilon", [1e-12], shape: [])], name: "l2")
        let embedding = builder.op("Div", [pooled, norm], name: "l2")
        let width = encoder.architecture.hiddenSize
        builder.output(hidden, as: "last_hidden_state", .float, [.symbol("batch"), .symbol("sequence"), .value(width)])
        builder.output(embedding, as: "sentence_embedding", .float, [.symbol("batch"), .value(width)])
        let model = builder.model(graphName: "cortado-bert-encoder", opset: opset, metadata: ["source": directory])
        return try write(model, to: output)
    }

    /// The ONNX model of a checkpoint's model.
    static func onnxModel(checkpoint: ModelCheckpoint) throws -> Onnx_ModelProto {
        let url = checkpoint.file.url
        if let scheme = checkpoint.file.metadata[ModelCheckpoint.schemeKey] ?? checkpoint.file.metadata[ModelCheckpoint.quantizationKey].map({ _ in "int8" }) {
            throw FormatError(url, "is an int8 checkpoint (cortado quantize, scheme \(scheme)); ONNX export of int8 models "
                              + "(QuantizeLinear, QLinearMatMul) is not supported yet: export the float32 checkpoint it was quantised from")
        }
        for info in checkpoint.file.tensors where info.name.hasPrefix("model.") {
            switch info.dtype {
            case .float32, .float16, .bfloat16: continue
            default:
                throw FormatError(url, "holds \(info.dtype.rawValue) weights (\(info.name)); ONNX export reads float32, bfloat16 "
                                  + "and float16 checkpoints (half-precision weights are exported as float32)")
            }
        }
        let configuration = checkpoint.configuration
        let module = try checkpoint.makeTrainedModel(device: .cpu)
        module.eval()
        var builder = ONNXGraphBuilder()
        let result: String
        if let classifier = module as? BertClassifier {
            let (ids, mask) = textInputs(&builder, masked: true)
            let maskFloat = builder.op("Cast", [mask!], name: "mask", attributes: [ONNXGraphBuilder.attribute("to", int: 1)])
            let hidden = try bert(&builder, classifier.encoder, ids: ids, maskFloat: maskFloat)
            let pooled = meanPool(&builder, hidden, maskFloat: maskFloat)
            result = try linear(&builder, classifier.classifier, pooled, name: "classifier")
        } else if let sequential = module as? Sequential {
            var current: String
            if configuration.model.readsTokens {
                current = textInputs(&builder, masked: false).ids
            } else {
                current = builder.input("input", .float, [.symbol("batch")] + configuration.sampleShape.map { .value($0) })
                if let standardization = configuration.standardization {
                    let count = standardization.means.count
                    current = builder.op("Sub", [current, builder.constant("feature_means", standardization.means, shape: [count])], name: "standardize")
                    current = builder.op("Div", [current, builder.constant("feature_deviations", standardization.standardDeviations, shape: [count])], name: "standardize")
                }
            }
            result = try layers(&builder, sequential, input: current)
        } else {
            throw FormatError(url, "its model (\(type(of: module))) has no ONNX export")
        }
        let outputs = configuration.outputs
        switch configuration.task {
        case .regression:
            builder.output(result, as: "prediction", .float, [.symbol("batch"), .value(outputs)])
        case .classification, .binaryClassification:
            builder.output(result, as: "logits", .float, [.symbol("batch"), .value(outputs)])
            let probabilities = outputs == 1
                ? builder.op("Sigmoid", [result], name: "probabilities")
                : builder.op("Softmax", [result], name: "probabilities", attributes: [ONNXGraphBuilder.attribute("axis", int: 1)])
            builder.output(probabilities, as: "probabilities", .float, [.symbol("batch"), .value(outputs)])
        }
        var metadata = ["cortado.model": configuration.model.rawValue, "cortado.task": configuration.task.rawValue]
        if let classNames = configuration.classNames { metadata["cortado.class_names"] = classNames.joined(separator: "\n") }
        if let json = try? JSONEncoder().encode(configuration), let text = String(data: json, encoding: .utf8) {
            metadata["cortado.configuration"] = text
        }
        return builder.model(graphName: "cortado-\(configuration.model.rawValue)", opset: opset, metadata: metadata)
    }

    private static func write(_ model: Onnx_ModelProto, to output: URL) throws -> Summary {
        let data: Data
        do {
            data = try model.serializedData()
        } catch {
            throw FormatError(output, "the ONNX model cannot be encoded: \(error)")
        }
        do {
            try data.write(to: output, options: .atomic)
        } catch {
            throw FormatError(output, "cannot be written: \(error.localizedDescription)")
        }
        return Summary(inputs: model.graph.input.map(\.name), outputs: model.graph.output.map(\.name),
                       nodes: model.graph.node.count, bytes: data.count)
    }

    // MARK: - Layers

    private static func textInputs(_ builder: inout ONNXGraphBuilder, masked: Bool) -> (ids: String, mask: String?) {
        let ids = builder.input("input_ids", .int64, [.symbol("batch"), .symbol("sequence")])
        let mask = masked ? builder.input("attention_mask", .int64, [.symbol("batch"), .symbol("sequence")]) : nil
        return (ids, mask)
    }

    /// A ``Sequential`` of the layers the built-in models use. Recurrent layers run time-major, as
    /// ONNX's LSTM and GRU do; other layers see batch-first tensors.
    private static func layers(_ builder: inout ONNXGraphBuilder, _ model: Sequential, input: String) throws -> String {
        var current = input, timeMajor = false
        func batchFirst(_ builder: inout ONNXGraphBuilder, _ name: String) {
            guard timeMajor else { return }
            current = builder.op("Transpose", [current], name: name, attributes: [ONNXGraphBuilder.attribute("perm", ints: [1, 0, 2])])
            timeMajor = false
        }
        for (index, layer) in model.layers.enumerated() {
            let name = "\(index)"
            switch layer {
            case is Dropout:
                continue
            case let lstm as LSTM:
                if !timeMajor {
                    current = builder.op("Transpose", [current], name: name, attributes: [ONNXGraphBuilder.attribute("perm", ints: [1, 0, 2])])
                }
                (current, timeMajor) = try recurrent(&builder, lstm: lstm, gru: nil, current, name: name)
            case let gru as GRU:
                if !timeMajor {
                    current = builder.op("Transpose", [current], name: name, attributes: [ONNXGraphBuilder.attribute("perm", ints: [1, 0, 2])])
                }
                (current, timeMajor) = try recurrent(&builder, lstm: nil, gru: gru, current, name: name)
            case let linear as Linear:
                batchFirst(&builder, name)
                current = try self.linear(&builder, linear, current, name: name)
            case let flatten as Flatten:
                batchFirst(&builder, name)
                current = builder.op("Flatten", [current], name: name, attributes: [ONNXGraphBuilder.attribute("axis", int: flatten.startAxis)])
            case let conv as Conv2D:
                let weight = try builder.constant("\(name).weight", conv.weight.value)
                let bias = try conv.bias.map { try builder.constant("\(name).bias", $0.value) }
                let kernel = conv.weight.value.shape
                current = builder.op("Conv", [current, weight] + (bias.map { [$0] } ?? []), name: name, attributes: [
                    ONNXGraphBuilder.attribute("kernel_shape", ints: [kernel[2], kernel[3]]),
                    ONNXGraphBuilder.attribute("strides", ints: [conv.stride.height, conv.stride.width]),
                    ONNXGraphBuilder.attribute("pads", ints: [conv.padding.height, conv.padding.width, conv.padding.height, conv.padding.width]),
                    ONNXGraphBuilder.attribute("dilations", ints: [conv.dilation.height, conv.dilation.width]),
                ])
            case let pool as MaxPool2D:
                current = builder.op("MaxPool", [current], name: name, attributes: [
                    ONNXGraphBuilder.attribute("kernel_shape", ints: [pool.kernelSize.height, pool.kernelSize.width]),
                    ONNXGraphBuilder.attribute("strides", ints: [pool.stride.height, pool.stride.width]),
                    ONNXGraphBuilder.attribute("pads", ints: [pool.padding.height, pool.padding.width, pool.padding.height, pool.padding.width]),
                ])
            case is ReLU:
                current = builder.op("Relu", [current], name: name)
            case is Sigmoid:
                current = builder.op("Sigmoid", [current], name: name)
            case is Tanh:
                current = builder.op("Tanh", [current], name: name)
            case is GELU:
                current = gelu(&builder, current, name: name)
            case let embedding as Embedding:
                current = builder.op("Gather", [try builder.constant("\(name).weight", embedding.weight.value), current], name: name)
            default:
                throw FormatError("layer \(index) (\(type(of: layer))) has no ONNX export")
            }
        }
        batchFirst(&builder, "output")
        return current
    }

    /// `x·Wᵀ + b` for inputs of any rank (Gemm for matrices, MatMul and Add otherwise).
    private static func linear(_ builder: inout ONNXGraphBuilder, _ layer: Linear, _ x: String, name: String, rank2: Bool = true) throws -> String {
        let shape = layer.weight.value.shape
        let bias = try layer.bias.map { try builder.constant("\(name).bias", $0.value) }
        if rank2 {
            let weight = try builder.constant("\(name).weight", layer.weight.value)
            return builder.op("Gemm", [x, weight] + (bias.map { [$0] } ?? []), name: name,
                              attributes: [ONNXGraphBuilder.attribute("transB", int: 1)])
        }
        let transposed = transpose(try layer.weight.value.toArray(), rows: shape[0], columns: shape[1])
        let weight = builder.constant("\(name).weight_t", transposed, shape: [shape[1], shape[0]])
        let product = builder.op("MatMul", [x, weight], name: name)
        return bias.map { builder.op("Add", [product, $0], name: name) } ?? product
    }

    private static func transpose(_ values: [Float], rows: Int, columns: Int) -> [Float] {
        var result = [Float](repeating: 0, count: values.count)
        for row in 0..<rows {
            for column in 0..<columns { result[column * rows + row] = values[row * columns + column] }
        }
        return result
    }

    /// Reorders the gate blocks of `[gates·hidden, …]` rows (or a `[gates·hidden]` bias).
    private static func reorderGates(_ values: [Float], hidden: Int, order: [Int]) -> [Float] {
        let block = values.count / order.count
        return order.flatMap { values[($0 * block)..<(($0 + 1) * block)] }
    }

    /// An LSTM or GRU over a time-major `[time, batch, features]` input; returns every step's state
    /// (time-major) or the last state (`[batch, hidden]`).
    private static func recurrent(
        _ builder: inout ONNXGraphBuilder, lstm: LSTM?, gru: GRU?, _ x: String, name: String
    ) throws -> (String, timeMajor: Bool) {
        let gates = lstm == nil ? 3 : 4
        let hidden = lstm?.hiddenSize ?? gru!.hiddenSize
        // Cortado keeps PyTorch's gate order: LSTM i, f, g, o; GRU r, z, n. ONNX wants i, o, f, c and z, r, h.
        let order = lstm == nil ? [1, 0, 2] : [0, 3, 1, 2]
        let weightIH = lstm?.weightIH ?? gru!.weightIH, weightHH = lstm?.weightHH ?? gru!.weightHH
        let inputSize = weightIH.value.shape[1]
        let w = builder.constant("\(name).W", reorderGates(try weightIH.value.toArray(), hidden: hidden, order: order),
                                 shape: [1, gates * hidden, inputSize])
        let r = builder.constant("\(name).R", reorderGates(try weightHH.value.toArray(), hidden: hidden, order: order),
                                 shape: [1, gates * hidden, hidden])
        let inputBias: [Float], recurrentBias: [Float]
        if let lstm {
            inputBias = reorderGates(try lstm.bias.value.toArray(), hidden: hidden, order: order)
            recurrentBias = [Float](repeating: 0, count: gates * hidden)
        } else {
            inputBias = reorderGates(try gru!.biasIH.value.toArray(), hidden: hidden, order: order)
            recurrentBias = reorderGates(try gru!.biasHH.value.toArray(), hidden: hidden, order: order)
        }
        let b = builder.constant("\(name).B", inputBias + recurrentBias, shape: [1, 2 * gates * hidden])
        var attributes = [ONNXGraphBuilder.attribute("hidden_size", int: hidden)]
        if gru != nil { attributes.append(ONNXGraphBuilder.attribute("linear_before_reset", int: 1)) }
        let outputs = builder.node(lstm == nil ? "GRU" : "LSTM", [x, w, r, b], outputs: 2, name: name, attributes: attributes)
        let returnSequences = lstm?.returnSequences ?? gru!.returnSequences
        if returnSequences {
            return (builder.op("Squeeze", [outputs[0], builder.constant("\(name).axis", int64: [1])], name: name), true)  // [time, batch, hidden]
        }
        return (builder.op("Squeeze", [outputs[1], builder.constant("\(name).axis", int64: [0])], name: name), false)  // [batch, hidden]
    }

    /// The exact (erf) GELU: `x · (1 + erf(x / √2)) / 2`.
    private static func gelu(_ builder: inout ONNXGraphBuilder, _ x: String, name: String) -> String {
        let scaled = builder.op("Mul", [x, builder.constant("\(name).inv_sqrt2", [Float(1 / 2.0.squareRoot())], shape: [])], name: name)
        let erf = builder.op("Erf", [scaled], name: name)
        let plusOne = builder.op("Add", [erf, builder.constant("\(name).one", [1], shape: [])], name: name)
        let product = builder.op("Mul", [x, plusOne], name: name)
        return builder.op("Mul", [product, builder.constant("\(name).half", [0.5], shape: [])], name: name)
    }

    private static func layerNorm(_ builder: inout ONNXGraphBuilder, _ norm: LayerNorm, _ x: String, name: String) throws -> String {
        builder.op("LayerNormalization", [x, try builder.constant("\(name).weight", norm.weight.value),
                                          try builder.constant("\(name).bias", norm.bias.value)],
                   name: name, attributes: [ONNXGraphBuilder.attribute("axis", int: -1), ONNXGraphBuilder.attribute("epsilon", float: norm.epsilon)])
    }

    /// The mean of `hidden` `[batch, sequence, width]` over the tokens whose mask is 1.
    private static func meanPool(_ builder: inout ONNXGraphBuilder, _ hidden: String, maskFloat: String) -> String {
        let weights = builder.op("Unsqueeze", [maskFloat, builder.constant("pool_axes", int64: [2])], name: "pool")  // [batch, sequence, 1]
        let sum = builder.op("ReduceSum", [builder.op("Mul", [hidden, weights], name: "pool"), builder.constant("pool_axis", int64: [1])],
                             name: "pool", attributes: [ONNXGraphBuilder.attribute("keepdims", int: 0)])
        let counts = builder.op("ReduceSum", [weights, builder.constant("pool_axis", int64: [1])], name: "pool",
                                attributes: [ONNXGraphBuilder.attribute("keepdims", int: 0)])
        let clamped = builder.op("Max", [counts, builder.constant("pool_epsilon", [1e-9], shape: [])], name: "pool")
        return builder.op("Div", [sum, clamped], name: "pool")
    }

    /// A BERT encoder: embeddings, then each layer's masked self-attention and feed-forward block.
    private static func bert(_ builder: inout ONNXGraphBuilder, _ model: BertModel, ids: String, maskFloat: String) throws -> String {
        let architecture = model.architecture
        let (heads, headSize, width) = (architecture.attentionHeads, architecture.headSize, architecture.hiddenSize)
        let embeddings = model.embeddings
        // Word embeddings + the first positions + token type 0.
        let words = builder.op("Gather", [try builder.constant("embeddings.word_embeddings.weight", embeddings.words.weight.value), ids], name: "embeddings")
        let shape = builder.op("Shape", [ids], name: "embeddings")
        let length = builder.op("Gather", [shape, builder.constant("embeddings.sequence_axis", int64: [1], shape: [])], name: "embeddings")
        let positions = builder.op("Range", [builder.constant("embeddings.zero", int64: [0], shape: []), length,
                                             builder.constant("embeddings.one", int64: [1], shape: [])], name: "embeddings")
        let positionRows = builder.op("Gather", [try builder.constant("embeddings.position_embeddings.weight", embeddings.positions.weight.value), positions], name: "embeddings")
        let typeRow = Array(try embeddings.tokenTypes.weight.value.toArray().prefix(width))
        var summed = builder.op("Add", [words, positionRows], name: "embeddings")
        summed = builder.op("Add", [summed, builder.constant("embeddings.token_type_row", typeRow, shape: [width])], name: "embeddings")
        var x = try layerNorm(&builder, embeddings.norm, summed, name: "embeddings.LayerNorm")

        // Padding keys get -1e9 before the softmax: their weights are exactly 0 in float32.
        let inverted = builder.op("Sub", [builder.constant("mask.one", [1], shape: []), maskFloat], name: "mask")
        let keyBias = builder.op("Unsqueeze", [builder.op("Mul", [inverted, builder.constant("mask.large", [-1e9], shape: [])], name: "mask"),
                                               builder.constant("mask.axes", int64: [1, 2])], name: "mask")  // [batch, 1, 1, sequence]
        let headShape = builder.constant("heads.shape", int64: [0, 0, Int64(heads), Int64(headSize)])
        let joinedShape = builder.constant("heads.joined", int64: [0, 0, Int64(architecture.attentionWidth)])  // heads · headSize (narrower after pruning)
        let scale = builder.constant("heads.scale", [1 / Float(headSize).squareRoot()], shape: [])
        for (index, layer) in model.layers.enumerated() {
            let name = "encoder.layer.\(index)"
            func split(_ projected: String, _ perm: [Int]) -> String {
                let reshaped = builder.op("Reshape", [projected, headShape], name: name)
                return builder.op("Transpose", [reshaped], name: name, attributes: [ONNXGraphBuilder.attribute("perm", ints: perm)])
            }
            func attention(_ input: String) throws -> String {
                let attention = layer.attention
                let q = split(try linear(&builder, attention.query, input, name: "\(name).attention.self.query", rank2: false), [0, 2, 1, 3])
                let k = split(try linear(&builder, attention.key, input, name: "\(name).attention.self.key", rank2: false), [0, 2, 3, 1])
                let v = split(try linear(&builder, attention.value, input, name: "\(name).attention.self.value", rank2: false), [0, 2, 1, 3])
                let scores = builder.op("Add", [builder.op("Mul", [builder.op("MatMul", [q, k], name: name), scale], name: name), keyBias], name: name)
                let probabilities = builder.op("Softmax", [scores], name: name, attributes: [ONNXGraphBuilder.attribute("axis", int: -1)])
                let context = builder.op("Transpose", [builder.op("MatMul", [probabilities, v], name: name)], name: name,
                                         attributes: [ONNXGraphBuilder.attribute("perm", ints: [0, 2, 1, 3])])
                let joined = builder.op("Reshape", [context, joinedShape], name: name)
                return try linear(&builder, attention.output, joined, name: "\(name).attention.output.dense", rank2: false)
            }
            func feedForward(_ input: String) throws -> String {
                let inner = try linear(&builder, layer.intermediate, input, name: "\(name).intermediate.dense", rank2: false)
                return try linear(&builder, layer.output, gelu(&builder, inner, name: "\(name).gelu"), name: "\(name).output.dense", rank2: false)
            }
            if layer.preLayerNorm {
                let attended = builder.op("Add", [x, try attention(try layerNorm(&builder, layer.attentionNorm, x, name: "\(name).attention.output.LayerNorm"))], name: name)
                x = builder.op("Add", [attended, try feedForward(try layerNorm(&builder, layer.outputNorm, attended, name: "\(name).output.LayerNorm"))], name: name)
            } else {
                let attended = try layerNorm(&builder, layer.attentionNorm, builder.op("Add", [x, try attention(x)], name: name),
                                             name: "\(name).attention.output.LayerNorm")
                x = try layerNorm(&builder, layer.outputNorm, builder.op("Add", [attended, try feedForward(attended)], name: name),
                                  name: "\(name).output.LayerNorm")
            }
        }
        return x
    }
}
