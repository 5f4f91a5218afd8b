import CortadoTraining
import Foundation
import Testing

/// Helpers for the hostile-input tests: a small trained checkpoint and ways to rewrite it.
enum HostileFixtures {
    /// Trains one epoch of `model` on a tiny MNIST-format directory and saves it; returns the data
    /// directory and the checkpoint's path.
    static func trainedCheckpoint(in directory: TemporaryDirectory, model: BuiltinModel = .mlp) throws -> (data: String, checkpoint: String) {
        let data = directory.file("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let dataDirectory = try TemporaryDirectory()
        try writeMNISTDirectory(dataDirectory, trainLabels: [0, 1, 2, 1, 0, 2, 1, 0], testLabels: [2, 0, 1, 1])
        for name in try dataDirectory.listing() {
            try FileManager.default.copyItem(atPath: dataDirectory.file(name), toPath: (data as NSString).appendingPathComponent(name))
        }
        var options = TrainingOptions()
        options.model = model
        options.data = data
        options.epochs = 1
        options.batchSize = 4
        options.seed = 3
        options.save = directory.file("model.safetensors")
        _ = try TrainingRun(options: options, device: .cpu).run()
        return (data, directory.file("model.safetensors"))
    }

    /// The data directory ``trainedCheckpoint(in:model:)`` wrote in `directory`.
    static func dataPath(_ directory: TemporaryDirectory) -> String { directory.file("data") }

    /// Rewrites the checkpoint at `path` with its configuration JSON changed by `edit` and its
    /// tensors changed by `tensors` (the file stays a valid safetensors file).
    static func rewrite(
        _ path: String, to destination: String? = nil, configuration edit: (inout [String: Any]) -> Void = { _ in },
        tensors change: (inout [SafeTensor]) throws -> Void = { _ in }
    ) throws {
        let url = URL(fileURLWithPath: path)
        let file = try SafeTensorsFile(contentsOf: url)
        var metadata = file.metadata
        let json = try #require(metadata[ModelCheckpoint.configurationKey])
        var configuration = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        edit(&configuration)
        metadata[ModelCheckpoint.configurationKey] = String(
            decoding: try JSONSerialization.data(withJSONObject: configuration, options: [.sortedKeys]), as: UTF8.self)
        var tensors = try file.tensorNames.map { try file.rawTensor($0) }
        try change(&tensors)
        try SafeTensors.write(tensors, metadata: metadata, to: URL(fileURLWithPath: destination ?? path))
    }
}

/// Expects `body` to throw an error whose description contains every fragment.
func expectError(
    mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected an error mentioning \(fragments), but nothing was thrown", sourceLocation: sourceLocation)
    } catch {
        let message = "\(error)"
        for fragment in fragments where !message.contains(fragment) {
            Issue.record("error \"\(message)\" does not mention \"\(fragment)\"", sourceLocation: sourceLocation)
        }
    }
}

/// The process's peak resident memory so far, in bytes (`getrusage`'s `ru_maxrss`).
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}
