import ArgumentParser
import Cortado
import CortadoTraining
import Foundation

extension QuantizationScheme: ExpressibleByArgument {}

/// `cortado quantize`: an int8 checkpoint from a float one.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Write an int8 copy of a checkpoint or of a Hugging Face encoder directory (weights int8 with float32 scales).",
        discussion: """
            Linear and convolution layers compute in int8 (activations quantised per row at run time, \
            or with static scales from --calibrate N batches of the checkpoint's training data); \
            embedding tables and recurrent weights are stored int8 and computed in float32; biases and \
            normalisation stay float32. The output is safetensors: I8 weights, F32 '<name>.scales', and \
            the scheme in the metadata ('quantization.scheme', 'cortado.quantization'). `cortado eval` \
            and `cortado predict` run it on any device.

            With --model, a Hugging Face BERT-family directory is copied to the --out directory with an \
            int8 model.safetensors, quantised as `cortado embed --quantize int8` does (by default \
            per-channel, q8_0 feed-forward outputs, smoothed with strength 0.6 on random vocabulary \
            words or --calibration-input; --scheme S puts every layer in S, unsmoothed unless --smooth); \
            `cortado embed --model OUT` runs it.

            Examples:
              cortado quantize --checkpoint cnn.safetensors --out cnn-int8.safetensors --scheme per-channel
              cortado quantize --checkpoint cnn.safetensors --out cnn-static.safetensors --calibrate 8
              cortado quantize --model all-MiniLM-L6-v2 --out minilm-int8
            """)

    @Option(help: "A float checkpoint written by `cortado train --save`.")
    var checkpoint: String?

    @Option(help: "A Hugging Face BERT-family model directory (instead of --checkpoint).")
    var model: String?

    @Option(help: "Where to write the int8 checkpoint (with --model: a directory).")
    var out: String

    @Option(help: "per-channel (one scale per output channel; the default) or q8_0 (one per block of 32). With --model: every layer's, unsmoothed unless --smooth.")
    var scheme: QuantizationScheme?

    @Option(help: "With --model: the scheme of the feed-forward output layers (default: q8_0, or --scheme when given).")
    var ffnScheme: QuantizationScheme?

    @Option(help: "Layers to keep in float: comma-separated dotted names (as listed in the output), none (the default), or ffn-output (each encoder layer's second feed-forward Linear).")
    var keepFloat: String?

    @Option(help: "Static activation scales from N batches of the checkpoint's training data (the largest value each layer's input blocks reach), instead of scaling each row at run time.")
    var calibrate: Int?

    @Option(help: "With --model: SmoothQuant's smoothing with this migration strength in [0, 1] (default 0.6 without --scheme, none with it).")
    var smooth: Float?

    @Option(help: "With --model and smoothing: a file of calibration texts, one per line, that the float encoder embeds first (the first 512; default: 512 texts of random vocabulary words).")
    var calibrationInput: String?

    @Flag(help: "Print a JSON object instead of text.")
    var json = false

    struct Result: Encodable {
        let checkpoint: String
        let out: String
        let scheme: String
        let int8Layers: [String]
        let int8StoredWeights: [String]
        let floatLayers: [String]
        let calibrationBatches: Int?
        let smoothingStrength: Float?
        let smoothingTexts: Int?
        let layerSchemes: [String: String]?
        let inputBytes: Int
        let outputBytes: Int
        let sizeRatio: Double
    }

    func validate() throws {
        guard (checkpoint == nil) != (model == nil) else { throw ValidationError("give --checkpoint FILE or --model DIR, one of them") }
        if let calibrate {
            guard calibrate >= 1 else { throw ValidationError("--calibrate must be a positive number of batches, not \(calibrate)") }
            guard model == nil else {
                throw ValidationError("--calibrate needs --checkpoint: a model directory records no data to calibrate on (embed quantises its activations at run time)")
            }
        }
        if model == nil, let flag = [(ffnScheme != nil, "--ffn-scheme"), (smooth != nil, "--smooth"), (calibrationInput != nil, "--calibration-input")]
            .first(where: \.0)?.1 {
            throw ValidationError("\(flag) shapes an encoder directory's quantisation: use it with --model")
        }
        try encoderFlags.validate()
    }

    private var encoderFlags: EncoderQuantizationFlags {
        EncoderQuantizationFlags(scheme: scheme, ffnScheme: ffnScheme, smooth: smooth, calibrationInput: calibrationInput, calibrate: nil)
    }

    /// The layers `--keep-float` keeps, checked against the model's `names`.
    private func kept(_ names: Set<String>, default fallback: String) throws -> @Sendable (String) -> Bool {
        let option = keepFloat ?? fallback
        if option == "none" || option.isEmpty { return { _ in false } }
        if option == "ffn-output" { return SentenceEncoder.isFeedForwardOutput }
        let list = Set(option.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        if let unknown = list.subtracting(names).sorted().first {
            throw ValidationError("--keep-float: the model has no Linear or Conv2D layer '\(unknown)' (it has \(names.sorted().joined(separator: ", ")))")
        }
        return { list.contains($0) }
    }

    func run() throws {
        let output = URL(fileURLWithPath: out)
        let input: URL, written: URL, record: QuantizationRecord
        if let model {
            let directory = try PretrainedModelDirectory(path: model)
            let names = Set(try directory.loadEncoder(device: .cpu).quantizableLayers().map(\.name))
            record = try directory.writeQuantized(to: output, recipe: try encoderFlags.recipe(keepingFloat: try kept(names, default: "none")))
            (input, written) = (directory.weightsURL, output.appendingPathComponent(PretrainedModelDirectory.weightsFileName))
        } else {
            input = URL(fileURLWithPath: checkpoint ?? "")
            let saved = try ModelCheckpoint(contentsOf: input)
            let names = Set(try saved.makeTrainedModel(device: .cpu).quantizableLayers().map(\.name))
            record = try saved.writeQuantized(
                to: output, scheme: scheme ?? .perChannel, keepingFloat: try kept(names, default: "none"), calibrationBatches: calibrate)
            written = output
        }
        func size(_ url: URL) -> Int { ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int) ?? 0 }
        let (before, after) = (size(input), size(written))
        let result = Result(
            checkpoint: checkpoint ?? model ?? "", out: out, scheme: record.scheme.rawValue, int8Layers: record.int8Layers,
            int8StoredWeights: record.int8StoredWeights, floatLayers: record.floatLayers,
            calibrationBatches: record.calibrationBatches, smoothingStrength: record.smoothingStrength,
            smoothingTexts: record.smoothingTexts, layerSchemes: record.layerSchemes?.mapValues(\.rawValue), inputBytes: before,
            outputBytes: after, sizeRatio: before > 0 ? Double(after) / Double(before) : 0)
        if json {
            print(try Terminal.jsonLine(result))
            return
        }
        print("wrote \(written.path) (\(record.scheme)): \(after) bytes, \(String(format: "%.3f", result.sizeRatio))× the \(before) of \(input.path)")
        print("int8 layers: \(record.int8Layers.isEmpty ? "none" : record.int8Layers.joined(separator: ", "))")
        if !record.int8StoredWeights.isEmpty {
            print("stored int8, computed float32: \(record.int8StoredWeights.joined(separator: ", "))")
        }
        if let others = record.layerSchemes, !others.isEmpty {
            print("layers in another scheme: " + others.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", "))
        }
        print("float layers: \(record.floatLayers.isEmpty ? "none" : record.floatLayers.joined(separator: ", "))")
        print(record.calibrationBatches.map { "activations: static scales from \($0) calibration batches" }
              ?? "activations: quantised per row at run time")
        if let strength = record.smoothingStrength, let texts = record.smoothingTexts {
            print(String(format: "smoothing: SmoothQuant, strength %g, calibrated on %d texts", strength, texts))
        }
    }
}
