import ArgumentParser
import CortadoTraining
import Foundation

/// `cortado predict`: classes and probabilities (or values) for the rows of an IDX or CSV file.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict with a checkpoint: for each image of an IDX file, row of a CSV file, or text.",
        discussion: """
            Examples:
              cortado predict --checkpoint model.safetensors \\
                --input t10k-images-idx3-ubyte.gz --limit 5
              cortado predict --checkpoint lstm.safetensors \\
                --text "an utterly charming film"
            """)

    @Option(help: "A checkpoint written by `cortado train --save`.")
    var checkpoint: String

    @Option(help: "An IDX image file, a CSV/TSV file with the model's feature columns, or for text models a file with one text per line.")
    var input: String?

    @Option(help: "A text to classify (text models; repeatable).")
    var text: [String] = []

    @Option(help: "Device: cpu, gpu[:N], opencl[:N], auto (or CORTADO_DEVICE).")
    var device: String?

    @Option(help: "Predict only the first N rows.")
    var limit: Int?

    @Flag(help: "Print one JSON object per row.")
    var json = false

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive, not \(limit)") }
        guard (input == nil) != text.isEmpty else { throw ValidationError("give either --input FILE or --text TEXT") }
    }

    struct Prediction: Encodable {
        let index: Int
        let `class`: Int?
        let className: String?
        let probability: Float?
        let probabilities: [Float]?
        let value: Float?
        let text: String?
    }

    @OptionGroup var cpu: ThreadsOption

    @OptionGroup var weights: NonFiniteOption

    func run() throws {
        weights.apply()
        try cpu.apply()
        let saved = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
        let configuration = saved.configuration
        var (features, count, texts) = try readInputs(configuration)
        if let limit, limit < count {
            features = Array(features[0..<(limit * configuration.sampleShape.reduce(1, *))])
            count = limit
        }
        let device = try DeviceSelection.resolve(device.map { [$0] } ?? [])[0]
        let model = try saved.makeTrainedModel(device: device)
        model.eval()
        // A --save-dtype checkpoint runs in its weights' type.
        let output = try withNoGrad { try withComputeType(saved.weightType) { () throws -> [Float] in
            let y: Tensor
            if let bert = configuration.bert, let maxLength = configuration.maxLength, let masked = model as? any MaskedSequenceModule {
                let batch = try bert.tokenizer().encode(batch: texts ?? [], maxLength: maxLength)
                y = try masked(Tensor(indices: batch.ids, shape: batch.shape, device: device),
                               mask: Tensor(batch.attentionMask, shape: batch.shape, device: device))
            } else {
                let shape = [count] + configuration.sampleShape
                let x = configuration.model.readsTokens
                    ? try Tensor(indices: features.map { Int32($0) }, shape: shape, device: device)
                    : try Tensor(features, shape: shape, device: device)
                y = try model(x)
            }
            switch configuration.task {
            case .classification: return try y.softmax(axis: 1).toArray()
            case .binaryClassification: return try y.sigmoid().toArray()
            case .regression: return try y.toArray()
            }
        } }
        let width = configuration.task == .classification ? configuration.outputs : 1
        for row in 0..<count {
            let values = Array(output[(row * width)..<((row + 1) * width)])
            // Class probabilities: the softmax, or for one sigmoid output [1 − p, p].
            let probabilities = configuration.task == .binaryClassification ? [1 - values[0], values[0]] : values
            let prediction: Prediction
            if configuration.task == .regression {
                prediction = Prediction(index: row, class: nil, className: nil, probability: nil, probabilities: nil, value: values[0],
                                        text: texts?[row])
            } else {
                let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
                let name = configuration.classNames.flatMap { best < $0.count ? $0[best] : nil } ?? String(best)
                prediction = Prediction(index: row, class: best, className: name, probability: probabilities[best],
                                        probabilities: probabilities, value: nil, text: texts?[row])
            }
            if json {
                print(try Terminal.jsonLine(prediction))
            } else if let best = prediction.class, let name = prediction.className {
                let all = probabilities.map { String(format: "%.3f", $0) }.joined(separator: " ")
                print("\(row): \(name) (class \(best), p = \(String(format: "%.3f", probabilities[best])))  [\(all)]")
            } else {
                print("\(row): \(values[0])")
            }
        }
    }

    /// The inputs as features of the checkpoint's sample shape (standardised as in training, or token
    /// ids of texts encoded with the checkpoint's tokenizer), their count, and the texts.
    private func readInputs(_ configuration: CheckpointConfiguration) throws -> ([Float], Int, [String]?) {
        if configuration.readsText {
            var texts = text
            if let input {
                do {
                    texts = try String(contentsOfFile: input, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init)
                } catch {
                    throw ValidationError("cannot read \(input): \(error.localizedDescription)")
                }
            }
            if let empty = texts.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                throw ValidationError("text \(empty + 1) is empty")
            }
            guard !texts.isEmpty else { throw ValidationError("no text to classify") }
            if let limit, limit < texts.count { texts = Array(texts.prefix(limit)) }
            guard let tokenizer = configuration.tokenizer, let maxLength = configuration.maxLength else {
                return ([], texts.count, texts)  // bert-classifier: WordPiece-encoded in run()
            }
            let ids = try texts.flatMap { try tokenizer.encode($0, maxLength: maxLength) }
            return (ids.map(Float.init), texts.count, texts)
        }
        guard let input else { throw ValidationError("the checkpoint's model does not read text: give --input FILE") }
        let lowered = input.lowercased()
        let perSample = configuration.sampleShape.reduce(1, *)
        if lowered.hasSuffix(".csv") || lowered.hasSuffix(".tsv") || lowered.hasSuffix(".csv.gz") || lowered.hasSuffix(".tsv.gz") {
            guard let columns = configuration.featureColumns else {
                throw ValidationError("the checkpoint's model takes images \(configuration.sampleShape), not CSV rows")
            }
            var values = try CSVTable.read(path: input).features(columns: columns)
            if let standardization = configuration.standardization {
                let count = values.count / max(perSample, 1)
                let dataset = try Dataset(features: values, sampleShape: [perSample], targets: .values([Float](repeating: 0, count: count)))
                values = try standardization.apply(to: dataset).features
            }
            return (values, values.count / max(perSample, 1), nil)
        }
        let file = try IDXFile.read(path: input, expecting: .images)
        let shape = [1] + file.dimensions.dropFirst()
        guard shape == configuration.sampleShape else {
            throw ValidationError("\(input) holds images of \(Array(file.dimensions.dropFirst())); the model takes \(configuration.sampleShape)")
        }
        return (file.floatValues().map { $0 / 255 }, file.dimensions[0], nil)
    }
}
