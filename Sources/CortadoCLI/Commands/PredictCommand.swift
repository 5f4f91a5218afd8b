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
        let inputs = try PredictionInputs(configuration: configuration, input: input, texts: text, limit: limit)
        let device = try DeviceSelection.resolve(device.map { [$0] } ?? [])[0]
        let model = try saved.makeTrainedModel(device: device)
        model.eval()
        // Batches of at most `batchSize` inputs: memory stays bounded whatever the input's length.
        var row = 0
        while let batch = try inputs.next(upTo: Self.batchSize) {
            let output = try predict(batch, model: model, saved: saved, device: device)
            try printPredictions(output, batch: batch, firstRow: row, configuration: configuration)
            row += batch.count
        }
        guard row > 0 else { throw ValidationError(input.map { "\($0): no inputs to predict" } ?? "no text to classify") }
    }

    /// Inputs per forward pass.
    static let batchSize = 256

    /// The model's output for one batch: class probabilities, sigmoid outputs or values.
    private func predict(_ batch: PredictionInputs.Batch, model: any Module, saved: ModelCheckpoint, device: Device) throws -> [Float] {
        let configuration = saved.configuration
        // A --save-dtype checkpoint runs in its weights' type.
        return try withNoGrad { try withComputeType(saved.weightType) { () throws -> [Float] in
            let y: Tensor
            if let bert = configuration.bert, let maxLength = configuration.maxLength, let masked = model as? any MaskedSequenceModule {
                let encoded = try bert.tokenizer().encode(batch: batch.texts ?? [], maxLength: maxLength)
                y = try masked(Tensor(indices: encoded.ids, shape: encoded.shape, device: device),
                               mask: Tensor(encoded.attentionMask, shape: encoded.shape, device: device))
            } else {
                let shape = [batch.count] + configuration.sampleShape
                let x = configuration.model.readsTokens
                    ? try Tensor(indices: batch.features.map { Int32($0) }, shape: shape, device: device)
                    : try Tensor(batch.features, shape: shape, device: device)
                y = try model(x)
            }
            switch configuration.task {
            case .classification: return try y.softmax(axis: 1).toArray()
            case .binaryClassification: return try y.sigmoid().toArray()
            case .regression: return try y.toArray()
            }
        } }
    }

    private func printPredictions(
        _ output: [Float], batch: PredictionInputs.Batch, firstRow: Int, configuration: CheckpointConfiguration
    ) throws {
        let width = configuration.task == .classification ? configuration.outputs : 1
        var lines = ""
        for index in 0..<batch.count {
            let row = firstRow + index
            let values = Array(output[(index * width)..<((index + 1) * width)])
            // Class probabilities: the softmax, or for one sigmoid output [1 − p, p].
            let probabilities = configuration.task == .binaryClassification ? [1 - values[0], values[0]] : values
            let text = batch.texts?[index]
            let prediction: Prediction
            if configuration.task == .regression {
                prediction = Prediction(index: row, class: nil, className: nil, probability: nil, probabilities: nil, value: values[0],
                                        text: text)
            } else {
                let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
                let name = configuration.classNames.flatMap { best < $0.count ? $0[best] : nil } ?? String(best)
                prediction = Prediction(index: row, class: best, className: name, probability: probabilities[best],
                                        probabilities: probabilities, value: nil, text: text)
            }
            if json {
                lines += try Terminal.jsonLine(prediction) + "\n"
            } else if let best = prediction.class, let name = prediction.className {
                let all = probabilities.map { String(format: "%.3f", $0) }.joined(separator: " ")
                lines += "\(row): \(name) (class \(best), p = \(String(format: "%.3f", probabilities[best])))  [\(all)]\n"
            } else {
                lines += "\(row): \(values[0])\n"
            }
        }
        FileHandle.standardOutput.write(Data(lines.utf8))
    }
}

/// The inputs of `cortado predict`, read a batch at a time: texts (from `--text` or a file read
/// line by line), CSV rows (standardised as in training) or IDX images.
final class PredictionInputs {
    /// One batch: the features of `count` samples of the checkpoint's sample shape (token ids for
    /// Keras-style text models, empty for bert-classifier) and the texts, for text models.
    struct Batch {
        var features: [Float]
        var count: Int
        var texts: [String]?
    }

    private let configuration: CheckpointConfiguration
    private var remaining: Int
    private var texts: [String] = []
    private var textIndex = 0
    private var lines: TextLineReader?
    private var rows: (values: [Float], count: Int)?
    private var images: IDXFile?
    private var position = 0

    init(configuration: CheckpointConfiguration, input: String?, texts: [String], limit: Int?) throws {
        self.configuration = configuration
        remaining = limit ?? Int.max
        if configuration.readsText {
            if let input { lines = try TextLineReader(path: input) } else { self.texts = texts }
            return
        }
        guard let input else { throw ValidationError("the checkpoint's model does not read text: give --input FILE") }
        let lowered = input.lowercased()
        let perSample = configuration.sampleShape.reduce(1, *)
        if lowered.hasSuffix(".csv") || lowered.hasSuffix(".tsv") || lowered.hasSuffix(".csv.gz") || lowered.hasSuffix(".tsv.gz") {
            guard let columns = configuration.featureColumns else {
                throw ValidationError("the checkpoint's model takes images \(configuration.sampleShape), not CSV rows")
            }
            var values = try CSVTable.read(path: input).features(columns: columns)
            let count = values.count / max(perSample, 1)
            if let standardization = configuration.standardization {
                let dataset = try Dataset(features: values, sampleShape: [perSample], targets: .values([Float](repeating: 0, count: count)))
                values = try standardization.apply(to: dataset).features
            }
            rows = (values, count)
            return
        }
        let file = try IDXFile.read(path: input, expecting: .images)
        let shape = [1] + file.dimensions.dropFirst()
        guard shape == configuration.sampleShape else {
            throw ValidationError("\(input) holds images of \(Array(file.dimensions.dropFirst())); the model takes \(configuration.sampleShape)")
        }
        images = file
    }

    /// The next batch of at most `size` inputs, or `nil` when all have been read.
    func next(upTo size: Int) throws -> Batch? {
        let size = min(size, remaining)
        guard size > 0 else { return nil }
        let batch: Batch?
        if configuration.readsText {
            var chunk: [String] = []
            while chunk.count < size {
                let text: String
                if let lines {
                    guard let line = try lines.next() else { break }
                    if line.isEmpty { continue }  // blank lines separate nothing: skipped
                    text = line
                } else {
                    guard textIndex < texts.count else { break }
                    text = texts[textIndex]
                    textIndex += 1
                }
                if text.trimmingCharacters(in: .whitespaces).isEmpty {
                    let number = lines?.lineNumber ?? textIndex
                    throw ValidationError("text \(number) is empty")
                }
                chunk.append(text)
            }
            guard !chunk.isEmpty else { return nil }
            if let tokenizer = configuration.tokenizer, let maxLength = configuration.maxLength {
                let ids = try chunk.flatMap { try tokenizer.encode($0, maxLength: maxLength) }
                batch = Batch(features: ids.map(Float.init), count: chunk.count, texts: chunk)
            } else {
                batch = Batch(features: [], count: chunk.count, texts: chunk)  // bert-classifier: WordPiece-encoded later
            }
        } else if let rows {
            let perSample = configuration.sampleShape.reduce(1, *)
            let count = min(size, rows.count - position)
            guard count > 0 else { return nil }
            batch = Batch(features: Array(rows.values[(position * perSample)..<((position + count) * perSample)]), count: count)
            position += count
        } else if let images {
            let perSample = configuration.sampleShape.reduce(1, *)
            let count = min(size, images.dimensions[0] - position)
            guard count > 0 else { return nil }
            let bytes = images.rawBytes[(position * perSample)..<((position + count) * perSample)]
            batch = Batch(features: bytes.map { Float($0) / 255 }, count: count)
            position += count
        } else {
            batch = nil
        }
        if let batch { remaining -= batch.count }
        return batch
    }
}
