/// The tensors a model's forward pass makes per sample, counted from its architecture (elements,
/// not bytes), and its parameters: what ``StepMemory`` turns into the bytes of a step.
///
/// Each layer lists the tensors it makes for one sample: outputs, and what its backward pass keeps
/// (im2col columns, an LSTM's states and gates, dropout masks). Views that copy nothing are left
/// out; everything else is counted, so the sums err on the side of too much.
public struct ActivationProfile: Sendable, Equatable {
    /// Per layer, the elements of each tensor it makes for one sample.
    public var layers: [[Double]]
    /// The model's parameters (weights and biases).
    public var parameters: Double

    /// A profile of `layers` (per sample) and `parameters`.
    public init(layers: [[Double]], parameters: Double) {
        self.layers = layers
        self.parameters = parameters
    }

    /// Elements per sample that a training forward pass keeps until its backward pass: every tensor.
    public var saved: Double { layers.reduce(0) { $0 + $1.reduce(0, +) } }

    /// Elements per sample of the largest tensor: a backward pass holds a few of its size at once
    /// (the gradient arriving, the gradient leaving, a temporary).
    public var largest: Double { layers.lazy.flatMap { $0 }.max() ?? 0 }

    /// Elements per sample of the layer that makes the most: what a pass without gradients holds
    /// at once, besides the layer's input.
    public var widestLayer: Double { layers.map { $0.reduce(0, +) }.max() ?? 0 }
}

extension ActivationProfile {
    /// The profile of a built-in model (not bert-classifier: ``init(bert:length:outputs:)``), built
    /// as ``BuiltinModel/make(sampleShape:outputs:vocabulary:device:generator:widths:)`` builds it.
    /// - Parameters:
    ///   - vocabulary: the token ids of a text model.
    ///   - widths: the hidden widths (``BuiltinModel/defaultWidths`` when `nil`).
    /// - Throws: ``TrainingError/invalidOption(_:)`` when the shape does not suit the model.
    public init(model: BuiltinModel, sampleShape: [Int], outputs: Int, vocabulary: Int? = nil, widths: [Int]? = nil) throws {
        let w = (widths ?? model.defaultWidths).map(Double.init)
        let o = Double(outputs)
        let features = sampleShape.reduce(1.0) { $0 * Double($1) }
        let head = [o, o, o]  // logits, and the loss's probabilities and gradient
        func image(_ minimum: Int) throws -> (c: Double, h: Int, w: Int) {
            guard sampleShape.count == 3, sampleShape[1] >= minimum, sampleShape[2] >= minimum else {
                throw TrainingError.invalidOption("the \(model.rawValue) model needs images of at least \(minimum)×\(minimum), not samples of shape \(sampleShape)")
            }
            return (Double(sampleShape[0]), sampleShape[1], sampleShape[2])
        }
        switch model {
        case .linear:
            self.init(layers: [[features], head], parameters: features * o + o)
        case .mlp:
            self.init(layers: [[features], [w[0], w[0]], head], parameters: features * w[0] + w[0] + w[0] * o + o)
        case .cnn:
            let (c, height, width) = try image(4)
            let plane = Double((height - 2) * (width - 2)), pooled = Double(((height - 2) / 2) * ((width - 2) / 2))
            let flat = w[0] * pooled
            self.init(
                layers: [[c * Double(height * width)], [9 * c * plane, w[0] * plane],
                         [flat, flat], [flat], [w[1], w[1]], head],
                parameters: 9 * c * w[0] + w[0] + flat * w[1] + w[1] + w[1] * o + o)
        case .lenet:
            let (c, height, width) = try image(16)
            let (h1, w1) = (height - 4, width - 4), (h2, w2) = ((height - 4) / 2 - 4, (width - 4) / 2 - 4)
            let plane1 = Double(h1 * w1), plane2 = Double(h2 * w2)
            let pooled1 = Double((h1 / 2) * (w1 / 2)), flat = w[1] * Double((h2 / 2) * (w2 / 2))
            self.init(
                layers: [[c * Double(height * width)], [25 * c * plane1, w[0] * plane1], [w[0] * pooled1, w[0] * pooled1],
                         [25 * w[0] * plane2, w[1] * plane2], [flat, flat], [w[2], w[2]], head],
                parameters: 25 * c * w[0] + w[0] + 25 * w[0] * w[1] + w[1] + flat * w[2] + w[2] + w[2] * o + o)
        case .lstm, .gru:
            guard sampleShape.count == 1, let vocabulary else {
                throw TrainingError.invalidOption("the \(model.rawValue) model reads token sequences and a vocabulary, not samples of shape \(sampleShape)")
            }
            let steps = Double(sampleShape[0]), embedding = 128.0
            let gates = model == .lstm ? 4.0 : 3.0
            // Projected inputs, the states h and c of every step, the saved gates (4·hidden also for
            // a GRU), the outputs; then the dropout's mask and output.
            func recurrent(_ hidden: Double) -> [Double] {
                [steps * gates * hidden, (steps + 1) * hidden, (steps + 1) * hidden, steps * 4 * hidden, steps * hidden]
            }
            func recurrentParameters(_ inputs: Double, _ hidden: Double) -> Double {
                gates * hidden * (inputs + hidden) + (model == .lstm ? 4 * hidden : 6 * hidden)
            }
            self.init(
                layers: [[steps, steps * embedding], recurrent(w[0]), [steps * w[0], steps * w[0]], recurrent(w[1]),
                         [w[1], w[1], w[1]], head],
                parameters: Double(vocabulary) * embedding + recurrentParameters(embedding, w[0]) + recurrentParameters(w[0], w[1])
                    + w[1] * o + o)
        case .bertClassifier:
            throw TrainingError.invalidOption("a bert-classifier's profile comes from its BERT architecture")
        }
    }

    /// The profile of a BERT encoder over `length` tokens with a classifier head of `outputs`
    /// (``BertClassifier``: mean pooling, dropout, Linear); `outputs` 0 profiles the encoder alone
    /// with its mean pooling (``SentenceEncoder``).
    public init(bert: BertArchitecture, length: Int, outputs: Int) {
        let l = Double(length), d = Double(bert.hiddenSize), a = Double(bert.attentionWidth)
        let i = Double(bert.intermediateSize), heads = Double(bert.attentionHeads), o = Double(outputs)
        // ids, mask; the three embeddings, their sums, LayerNorm (output and statistics), dropout (mask, output)
        let embeddings = [2 * l, l * d, l * d, l * d, l * d, l * d, l * d, 2 * l, l * d, l * d]
        // query, key, value, attention output (and its log-sum-exp), heads joined, output projection,
        // dropout, residual, LayerNorm; intermediate, GELU, output, dropout, residual, LayerNorm.
        let attention = [l * a, l * a, l * a, l * a, heads * l, l * a, l * d, l * d, l * d, l * d, l * d, 2 * l]
        let feedForward = [l * i, l * i, l * d, l * d, l * d, l * d, l * d, 2 * l]
        var layers = [embeddings]
        for _ in 0..<max(bert.layerCount, 0) { layers += [attention, feedForward] }
        layers.append(outputs > 0 ? [d, d, d, o, o, o] : [d, d, d])
        self.init(layers: layers, parameters: bert.parameterEstimate + d * o + o)
    }
}

extension ActivationProfile {
    /// The profile of the model a checkpoint's configuration describes (its widths, vocabulary
    /// and, for bert-classifier, its BERT over `maxLength` tokens).
    public init(configuration: CheckpointConfiguration) throws {
        if configuration.model.readsWordPieces {
            guard let bert = configuration.bert, let maxLength = configuration.maxLength else {
                throw TrainingError.invalidOption("a bert-classifier configuration records no BERT architecture or maxLength")
            }
            self.init(bert: bert.architecture, length: maxLength, outputs: configuration.outputs)
            return
        }
        try self.init(model: configuration.model, sampleShape: configuration.sampleShape, outputs: configuration.outputs,
                      vocabulary: configuration.tokenizer?.vocabularySize, widths: configuration.widths)
    }
}
