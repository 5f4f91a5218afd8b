/// The models Cortado trains from the command line, built for a data set's sample shape and
/// output count.
public enum BuiltinModel: String, CaseIterable, Sendable, Codable {
    /// Linear (softmax or least-squares) regression: `Flatten → Linear(features, outputs)`.
    case linear
    /// A multilayer perceptron: `Flatten → Linear(features, 256) → ReLU → Linear(256, outputs)`.
    case mlp
    /// The seed documents' CNN: `Conv2D(32, 3×3) → ReLU → MaxPool(2) → Flatten → Linear(64) →
    /// ReLU → Linear(outputs)` (softmax is part of the loss). The ReLU runs after the pool: the two
    /// commute (the same values and gradients), and after the pool it reads a quarter of the
    /// elements, which saves four passes over the largest activation of a memory-bound step.
    case cnn
    /// Caffe's LeNet for MNIST: `Conv2D(20, 5×5) → MaxPool(2) → Conv2D(50, 5×5) → MaxPool(2) →
    /// Linear(500) → ReLU → Linear(outputs)`.
    case lenet
    /// The seed documents' text classifier: `Embedding(vocabulary, 128) → LSTM(128, all steps) →
    /// Dropout(0.5) → LSTM(128) → Dropout(0.5) → Linear(outputs)` (one output with a sigmoid loss for
    /// two classes).
    case lstm
    /// The same with GRU layers.
    case gru
    /// A pretrained BERT-family encoder (`--init DIR`, a Hugging Face model directory) fine-tuned
    /// with a head on its mean-pooled output: ``BertClassifier``. Built by
    /// ``BertClassifierSettings``, not by ``make(sampleShape:outputs:vocabulary:device:generator:)``.
    case bertClassifier = "bert-classifier"

    /// Whether the model reads token ids (text) rather than feature values.
    public var readsTokens: Bool { self == .lstm || self == .gru }

    /// Whether the model reads WordPiece ids with a padding mask (the pretrained BERT classifier).
    public var readsWordPieces: Bool { self == .bertClassifier }

    /// Whether the model reads text, by either tokenizer.
    public var readsText: Bool { readsTokens || readsWordPieces }

    /// A one-line description for help texts.
    public var summary: String {
        switch self {
        case .linear: return "Flatten → Linear (regression on CSV, or softmax regression)"
        case .mlp: return "Flatten → Linear(256) → ReLU → Linear"
        case .cnn: return "Conv2D(32, 3x3) → ReLU → MaxPool(2) → Flatten → Linear(64) → ReLU → Linear"
        case .lenet: return "Caffe's LeNet: Conv(20, 5x5) → Pool → Conv(50, 5x5) → Pool → Linear(500) → ReLU → Linear"
        case .lstm: return "text: Embedding(128) → LSTM(128, sequences) → Dropout → LSTM(128) → Dropout → Linear"
        case .gru: return "text: Embedding(128) → GRU(128, sequences) → Dropout → GRU(128) → Dropout → Linear"
        case .bertClassifier: return "text: a pretrained BERT (--init DIR) → mean pooling → Dropout(0.1) → Linear, fine-tuned"
        }
    }

    /// The widths of the model's hidden layers, in order, as built by default: the convolution
    /// channels and hidden units (cnn: `[32, 64]`, lenet: `[20, 50, 500]`, mlp: `[256]`) or the
    /// recurrent units (lstm, gru: `[128, 128]`). Empty for `linear` and `bert-classifier`.
    /// Structured pruning records smaller ones in the checkpoint (``CheckpointConfiguration/widths``).
    public var defaultWidths: [Int] {
        switch self {
        case .linear, .bertClassifier: return []
        case .mlp: return [256]
        case .cnn: return [32, 64]
        case .lenet: return [20, 50, 500]
        case .lstm, .gru: return [128, 128]
        }
    }

    /// Builds the model for samples of `sampleShape` and `outputs` outputs.
    /// - Parameter vocabulary: the number of token ids, for the text models.
    /// - Parameter widths: the hidden widths (``defaultWidths`` when `nil`), as many as those.
    /// - Throws: when the sample shape does not suit the model (the convolutional models need
    ///   `[channels, height, width]` images large enough for their windows, the text models token
    ///   sequences and a vocabulary).
    public func make(
        sampleShape: [Int], outputs: Int, vocabulary: Int? = nil, device: Device? = nil, generator: RandomGenerator? = nil,
        widths: [Int]? = nil
    ) throws -> Sequential {
        let features = sampleShape.reduce(1, *)
        let w = widths ?? defaultWidths
        guard w.count == defaultWidths.count, w.allSatisfy({ $0 > 0 && $0 <= 1 << 20 }) else {
            throw CortadoError.invalidArgument("model '\(rawValue)' has \(defaultWidths.count) hidden widths between 1 and \(1 << 20), not \(w)")
        }
        if readsWordPieces {
            throw CortadoError.invalidArgument(
                "model '\(rawValue)' is built from a pretrained model directory (--init DIR) or a checkpoint, not from a sample shape")
        }
        if readsTokens {
            guard let vocabulary, sampleShape.count == 1 else {
                throw CortadoError.invalidArgument("model '\(rawValue)' reads text: it needs token sequences and a vocabulary, not samples of shape \(sampleShape)")
            }
            return try text(vocabulary: vocabulary, outputs: outputs, widths: w, device: device, generator: generator)
        }
        switch self {
        case .linear:
            return Sequential(Flatten(), try Linear(features, outputs, device: device, generator: generator))
        case .mlp:
            return Sequential(
                Flatten(), try Linear(features, w[0], device: device, generator: generator), ReLU(),
                try Linear(w[0], outputs, device: device, generator: generator))
        case .cnn:
            let (channels, height, width) = try image(sampleShape, minimum: 4)
            let flat = w[0] * ((height - 2) / 2) * ((width - 2) / 2)
            return Sequential(
                try Conv2D(channels, w[0], kernelSize: 3, device: device, generator: generator), MaxPool2D(2), ReLU(),
                Flatten(), try Linear(flat, w[1], device: device, generator: generator), ReLU(),
                try Linear(w[1], outputs, device: device, generator: generator))
        case .lenet:
            let (channels, height, width) = try image(sampleShape, minimum: 16)
            let flat = w[1] * (((height - 4) / 2 - 4) / 2) * (((width - 4) / 2 - 4) / 2)
            return Sequential(
                try Conv2D(channels, w[0], kernelSize: 5, device: device, generator: generator), MaxPool2D(2),
                try Conv2D(w[0], w[1], kernelSize: 5, device: device, generator: generator), MaxPool2D(2),
                Flatten(), try Linear(flat, w[2], device: device, generator: generator), ReLU(),
                try Linear(w[2], outputs, device: device, generator: generator))
        case .lstm, .gru, .bertClassifier:
            preconditionFailure("handled above")
        }
    }

    private func text(vocabulary: Int, outputs: Int, widths: [Int], device: Device?, generator: RandomGenerator?) throws -> Sequential {
        let width = 128
        func recurrent(_ inputs: Int, _ units: Int, _ returnSequences: Bool) throws -> any Module {
            self == .lstm
                ? try LSTM(inputSize: inputs, hiddenSize: units, returnSequences: returnSequences, device: device, generator: generator)
                : try GRU(inputSize: inputs, hiddenSize: units, returnSequences: returnSequences, device: device, generator: generator)
        }
        return Sequential(
            try Embedding(vocabulary: vocabulary, dimension: width, device: device, generator: generator),
            try recurrent(width, widths[0], true), try Dropout(0.5, generator: generator), try recurrent(widths[0], widths[1], false),
            try Dropout(0.5, generator: generator), try Linear(widths[1], outputs, device: device, generator: generator))
    }

    private func image(_ shape: [Int], minimum: Int) throws -> (Int, Int, Int) {
        guard shape.count == 3, shape[1] >= minimum, shape[2] >= minimum else {
            throw CortadoError.invalidArgument(
                "model '\(rawValue)' needs images of shape [channels, height, width] of at least \(minimum)×\(minimum), not \(shape); use --model mlp or linear for tabular data")
        }
        return (shape[0], shape[1], shape[2])
    }
}
