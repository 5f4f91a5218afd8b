import Foundation

/// The tensors of a Hugging Face `model.safetensors`, looked up by their BERT names with or without
/// the `bert.` prefix that `BertFor…` checkpoints add.
///
/// Linear weights are stored `[out, in]`, as PyTorch keeps them.
///
/// ```swift
/// let weights = try directory.loadWeights()
/// let query = try weights.tensor("encoder.layer.0.attention.self.query.weight", shape: [384, 384])
/// ```
public struct PretrainedWeights: Sendable {
    /// The prefix that `BertForSequenceClassification` and friends put before the encoder's tensors.
    public static let bertPrefix = "bert."

    /// The file read.
    public let file: SafeTensorsFile

    /// Reads and checks the safetensors file at `url`.
    /// - Throws: ``DataError`` naming the file when it is missing or not a valid safetensors file.
    public init(contentsOf url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataError.notFound(path: url.path, expected: "the model's weights (model.safetensors)")
        }
        do {
            file = try SafeTensorsFile(contentsOf: url)
        } catch let error as CheckpointError {
            throw DataError.malformed(file: url.path, problem: error.problem)
        }
    }

    /// Weights read before.
    public init(file: SafeTensorsFile) {
        self.file = file
    }

    /// The tensors' names with any `bert.` prefix removed, in the order of the file: the names to
    /// pass to ``tensor(_:shape:)``.
    public var names: [String] {
        file.tensorNames.map { $0.hasPrefix(Self.bertPrefix) ? String($0.dropFirst(Self.bertPrefix.count)) : $0 }
    }

    /// The name under which the file stores `name`: `name` itself, else with `bert.` added, else
    /// with `bert.` removed; `nil` when the file has none of them.
    public func storedName(of name: String) -> String? {
        if file.info(name) != nil { return name }
        if file.info(Self.bertPrefix + name) != nil { return Self.bertPrefix + name }
        if name.hasPrefix(Self.bertPrefix) {
            let bare = String(name.dropFirst(Self.bertPrefix.count))
            if file.info(bare) != nil { return bare }
        }
        return nil
    }

    /// Whether the file has tensor `name` (with or without `bert.`).
    public func contains(_ name: String) -> Bool {
        storedName(of: name) != nil
    }

    /// The shape of tensor `name`, or `nil` when the file has no such tensor.
    public func shape(of name: String) -> [Int]? {
        storedName(of: name).flatMap { file.info($0)?.shape }
    }

    /// The values of tensor `name` (with or without `bert.`) as `Float`s in row-major order, after
    /// checking that its shape is `shape`. `F16`, `BF16` and `F64` tensors are converted.
    ///
    /// - Throws: ``DataError/malformed(file:problem:)`` naming the file and the tensor when the file
    ///   has no such tensor, its shape differs (both shapes given) or it holds integers.
    public func tensor(_ name: String, shape: [Int]) throws -> [Float] {
        let path = file.url.path
        guard let stored = storedName(of: name), let info = file.info(stored) else {
            let alternative = name.hasPrefix(Self.bertPrefix) ? String(name.dropFirst(Self.bertPrefix.count)) : Self.bertPrefix + name
            throw DataError.malformed(
                file: path, problem: "no tensor '\(name)' (nor '\(alternative)') among its \(file.tensors.count) tensors")
        }
        guard info.shape == shape else {
            throw DataError.malformed(
                file: path, problem: "tensor '\(stored)' has shape \(info.shape), expected \(shape)")
        }
        do {
            try file.checkFinite(info)
            return try file.floats(stored)
        } catch let error as CheckpointError {
            throw DataError.malformed(file: path, problem: error.problem)
        }
    }
}
