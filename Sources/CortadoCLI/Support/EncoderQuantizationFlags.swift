import ArgumentParser
import CortadoTraining
import Foundation

/// The flags that shape an encoder's int8 recipe, as `cortado embed --quantize int8` and
/// `cortado quantize --model` read them: without `--scheme`, ``EncoderQuantization/measured`` with
/// whatever `--ffn-scheme` and `--smooth` change; with it, every layer in that scheme, smoothed only
/// when `--smooth` says so.
struct EncoderQuantizationFlags {
    let scheme: QuantizationScheme?
    let ffnScheme: QuantizationScheme?
    let smooth: Float?
    let calibrationInput: String?
    let calibrate: Int?

    /// Refuses flags that contradict each other or are out of range.
    func validate() throws {
        if let smooth, !(smooth >= 0 && smooth <= 1) { throw ValidationError("--smooth must be between 0 and 1, not \(smooth)") }
        if let calibrate, calibrate < 1 { throw ValidationError("--calibrate must be a positive number of texts, not \(calibrate)") }
        if scheme != nil && smooth == nil && (calibrationInput != nil || calibrate != nil) {
            throw ValidationError("--calibration-input and --calibrate calibrate the smoothing, which --scheme turns off: add --smooth 0.6")
        }
    }

    /// The recipe, its layers kept float as `kept` says.
    func recipe(keepingFloat kept: @escaping @Sendable (String) -> Bool) throws -> EncoderQuantization {
        var recipe = scheme.map { EncoderQuantization(scheme: $0) } ?? .measured
        if let ffnScheme { recipe.feedForwardOutputScheme = ffnScheme }
        if let smooth { recipe.smoothingStrength = smooth }
        if let calibrate { recipe.calibrationCount = calibrate }
        recipe.keepingFloat = kept
        if let calibrationInput, recipe.smoothingStrength != nil {
            recipe.calibrationTexts = try TextLineReader.nonBlankLines(path: calibrationInput)
        }
        return recipe
    }

    /// One line on the layers' schemes and smoothing, e.g. `30 per-channel, 6 q8_0, smoothed with
    /// strength 0.6 on 512 calibration texts (vocabulary words)`.
    static func summary(_ record: QuantizationRecord, recipe: EncoderQuantization) -> String {
        let counts = Dictionary(grouping: record.int8Layers, by: record.scheme(ofLayer:)).mapValues(\.count)
        var line = counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        if let strength = record.smoothingStrength, let texts = record.smoothingTexts {
            line += String(format: ", smoothed with strength %g on %d calibration texts", strength, texts)
            if recipe.calibrationTexts == nil { line += " (vocabulary words)" }
        }
        return line
    }
}
