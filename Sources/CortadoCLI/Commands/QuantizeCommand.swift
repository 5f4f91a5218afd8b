import ArgumentParser
import Cortado
import CortadoTraining
import Foundation

extension QuantizationScheme: ExpressibleByArgument {}

/// `cortado quantize`: an int8 checkpoint from a float one.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Write an int8 copy of a checkpoint (weights int8 with float32 scales).",
        discussion: """
            Linear and convolution layers compute in int8 (activations quantised per row at run time); \
            embedding tables and recurrent weights are stored int8 and computed in float32; biases and \
            normalisation stay float32. The output is safetensors: I8 weights, F32 '<name>.scales', and \
            the scheme in the metadata ('quantization.scheme', 'cortado.quantization'). `cortado eval` \
            and `cortado predict` run it on any device.

            Example:
              cortado quantize --checkpoint cnn.safetensors --out cnn-int8.safetensors --scheme per-channel
            """)

    @Option(help: "A float checkpoint written by `cortado train --save`.")
    var checkpoint: String

    @Option(help: "Where to write the int8 checkpoint.")
    var out: String

    @Option(help: "per-channel (one scale per output channel) or q8_0 (one per block of 32).")
    var scheme: QuantizationScheme = .perChannel

    @Option(help: "Comma-separated layers (dotted names, as listed in the output) to keep in float.")
    var keepFloat: String?

    @Flag(help: "Print a JSON object instead of text.")
    var json = false

    struct Result: Encodable {
        let checkpoint: String
        let out: String
        let scheme: String
        let int8Layers: [String]
        let int8StoredWeights: [String]
        let floatLayers: [String]
        let inputBytes: Int
        let outputBytes: Int
        let sizeRatio: Double
    }

    func run() throws {
        let input = URL(fileURLWithPath: checkpoint), output = URL(fileURLWithPath: out)
        let saved = try ModelCheckpoint(contentsOf: input)
        let kept = Set((keepFloat ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let names = Set(try saved.makeTrainedModel(device: .cpu).quantizableLayers().map(\.name))
        if let unknown = kept.subtracting(names).sorted().first {
            throw ValidationError("--keep-float: the model has no Linear or Conv2D layer '\(unknown)' (it has \(names.sorted().joined(separator: ", ")))")
        }
        let record = try saved.writeQuantized(to: output, scheme: scheme, keepingFloat: { kept.contains($0) })
        func size(_ url: URL) -> Int { ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int) ?? 0 }
        let (before, after) = (size(input), size(output))
        let result = Result(
            checkpoint: checkpoint, out: out, scheme: scheme.rawValue, int8Layers: record.int8Layers,
            int8StoredWeights: record.int8StoredWeights, floatLayers: record.floatLayers, inputBytes: before,
            outputBytes: after, sizeRatio: before > 0 ? Double(after) / Double(before) : 0)
        if json {
            print(try Terminal.jsonLine(result))
            return
        }
        print("wrote \(out) (\(scheme)): \(after) bytes, \(String(format: "%.3f", result.sizeRatio))× the \(before) of \(checkpoint)")
        print("int8 layers: \(record.int8Layers.isEmpty ? "none" : record.int8Layers.joined(separator: ", "))")
        if !record.int8StoredWeights.isEmpty {
            print("stored int8, computed float32: \(record.int8StoredWeights.joined(separator: ", "))")
        }
        print("float layers: \(record.floatLayers.isEmpty ? "none" : record.floatLayers.joined(separator: ", "))")
    }
}
