import ArgumentParser
import CortadoTraining
import Foundation

/// `cortado predict`: classes and probabilities (or values) for the rows of an IDX or CSV file.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict with a checkpoint for each image of an IDX file or each row of a CSV file.",
        discussion: "Example: cortado predict --checkpoint model.safetensors --input t10k-images-idx3-ubyte.gz --limit 5")

    @Option(help: "A checkpoint written by `cortado train --save`.")
    var checkpoint: String

    @Option(help: "An IDX image file (gzip or raw) or a CSV/TSV file with the model's feature columns.")
    var input: String

    @Option(help: "Device: cpu, gpu[:N], opencl[:N], auto (or CORTADO_DEVICE).")
    var device: String?

    @Option(help: "Predict only the first N rows.")
    var limit: Int?

    @Flag(help: "Print one JSON object per row.")
    var json = false

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive, not \(limit)") }
    }

    struct Prediction: Encodable {
        let index: Int
        let `class`: Int?
        let probabilities: [Float]?
        let value: Float?
    }

    func run() throws {
        let saved = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
        let configuration = saved.configuration
        var (features, count) = try readInputs(configuration)
        if let limit, limit < count {
            features = Array(features[0..<(limit * configuration.sampleShape.reduce(1, *))])
            count = limit
        }
        let device = try DeviceSelection.resolve(device.map { [$0] } ?? [])[0]
        let model = try saved.makeModel(device: device)
        model.eval()
        let output = try withNoGrad { () throws -> [Float] in
            let x = try Tensor(features, shape: [count] + configuration.sampleShape, device: device)
            let y = try model(x)
            return try (configuration.task == .classification ? y.softmax(axis: 1) : y).toArray()
        }
        let width = configuration.task == .classification ? configuration.outputs : 1
        for row in 0..<count {
            let values = Array(output[(row * width)..<((row + 1) * width)])
            let prediction: Prediction
            if configuration.task == .classification {
                let best = values.indices.max { values[$0] < values[$1] } ?? 0
                prediction = Prediction(index: row, class: best, probabilities: values, value: nil)
            } else {
                prediction = Prediction(index: row, class: nil, probabilities: nil, value: values[0])
            }
            if json {
                print(try Terminal.jsonLine(prediction))
            } else if let best = prediction.class {
                let probabilities = values.map { String(format: "%.3f", $0) }.joined(separator: " ")
                print("\(row): class \(best) (p = \(String(format: "%.3f", values[best])))  [\(probabilities)]")
            } else {
                print("\(row): \(values[0])")
            }
        }
    }

    /// The input rows as features of the checkpoint's sample shape, standardised as in training.
    private func readInputs(_ configuration: CheckpointConfiguration) throws -> ([Float], Int) {
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
            return (values, values.count / max(perSample, 1))
        }
        let file = try IDXFile.read(path: input, expecting: .images)
        let shape = [1] + file.dimensions.dropFirst()
        guard shape == configuration.sampleShape else {
            throw ValidationError("\(input) holds images of \(Array(file.dimensions.dropFirst())); the model takes \(configuration.sampleShape)")
        }
        return (try file.floatValues().map { $0 / 255 }, file.dimensions[0])
    }
}
