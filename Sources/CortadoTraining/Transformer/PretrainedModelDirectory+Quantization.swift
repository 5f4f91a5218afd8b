import Cortado
import CortadoNN
import Foundation

extension PretrainedModelDirectory {
    /// The quantisation of this directory's weights when `cortado quantize --model` wrote them,
    /// `nil` for float weights.
    /// - Throws: ``DataError`` naming the file when its record is unreadable.
    public func quantization() throws -> QuantizationRecord? {
        let file = try loadWeights().file
        guard let json = file.metadata[ModelCheckpoint.quantizationKey] else { return nil }
        do {
            return try JSONDecoder().decode(QuantizationRecord.self, from: Data(json.utf8))
        } catch {
            throw DataError.malformed(file: file.url.path, problem: "metadata '\(ModelCheckpoint.quantizationKey)' cannot be read: \(error)")
        }
    }

    /// Writes an int8 copy of this directory to `output` (created if needed): `model.safetensors`
    /// with the encoder's Linear weights quantised as `recipe` says (``SentenceEncoder/quantize(_:batchSize:)``)
    /// as `I8` with `F32` `<name>.scales`, its embedding tables stored the same way, the rest `F32`,
    /// and the ``QuantizationRecord`` in the metadata; every other file of the directory copied.
    /// Smoothed layers keep their column multipliers as `<name>.input_multipliers`.
    /// - Returns: the record written.
    /// - Throws: ``DataError`` when the weights are already int8, `output` is this directory or the
    ///   recipe is refused (nothing is written then).
    @discardableResult
    public func writeQuantized(to output: URL, recipe: EncoderQuantization) throws -> QuantizationRecord {
        if let existing = try quantization() {
            throw DataError.invalidRequest("\(weightsURL.path) is already int8 (scheme \(existing.scheme)); quantise the float model it came from")
        }
        let fileManager = FileManager.default
        guard output.standardizedFileURL.resolvingSymlinksInPath().path != url.standardizedFileURL.resolvingSymlinksInPath().path else {
            throw DataError.invalidRequest("--out \(output.path) is the model directory being quantised; choose another")
        }
        try recipe.validate()
        var smoothing: [String: Tensor] = [:]
        var calibration: [String] = []
        if recipe.smoothingStrength != nil {
            let encoder = try SentenceEncoder(directory: self, device: .cpu)
            calibration = try encoder.calibrationTexts(for: recipe)
            smoothing = try encoder.calibrateSmoothing(calibration)
        }
        let model = try loadEncoder(device: .cpu)
        let (tensors, unsmoothed) = try ModelCheckpoint.quantizedTensors(
            of: model, prefix: "", scheme: recipe.scheme, keepingFloat: recipe.keepingFloat, override: recipe.scheme(ofLayer:),
            smoothing: smoothing, strength: recipe.smoothingStrength ?? 0.5)
        var record = unsmoothed
        if let strength = recipe.smoothingStrength {
            (record.smoothingStrength, record.smoothingTexts) = (strength, calibration.count)
        }
        try fileManager.createDirectory(at: output, withIntermediateDirectories: true)
        for name in try fileManager.contentsOfDirectory(atPath: url.path) where name != Self.weightsFileName {
            let (source, target) = (url.appendingPathComponent(name), output.appendingPathComponent(name))
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: source.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            if fileManager.fileExists(atPath: target.path) { try fileManager.removeItem(at: target) }
            try fileManager.copyItem(at: source, to: target)
        }
        try SafeTensors.write(pending: tensors, metadata: try ModelCheckpoint.quantizationMetadata(record, base: ["format": "pt"]),
                              to: output.appendingPathComponent(Self.weightsFileName))
        return record
    }
}
