import Cortado
import CortadoNN

/// How a BERT encoder's Linear layers become int8: the recipe that `cortado embed --quantize int8`
/// (``SentenceEncoder/quantize(_:batchSize:)``) and `cortado quantize --model`
/// (``PretrainedModelDirectory/writeQuantized(to:recipe:)``) share.
///
/// ```swift
/// var recipe = EncoderQuantization.measured          // per-channel, q8_0 feed-forward outputs, smoothed
/// recipe.calibrationTexts = trainingTexts            // instead of vocabulary words
/// let record = try encoder.quantize(recipe)
/// ```
public struct EncoderQuantization: Sendable {
    /// The scheme of the int8 layers (the feed-forward outputs aside, with ``feedForwardOutputScheme``).
    public var scheme: QuantizationScheme
    /// The scheme of each layer's second feed-forward Linear (``SentenceEncoder/isFeedForwardOutput(_:)``),
    /// whose GELU input has outlier columns; `nil`: ``scheme``.
    public var feedForwardOutputScheme: QuantizationScheme?
    /// Layers (dotted names) kept in float.
    public var keepingFloat: @Sendable (String) -> Bool
    /// SmoothQuant's migration strength in [0, 1] (``QuantizedMatrix/init(quantizing:scheme:smoothing:strength:)``);
    /// `nil`: no smoothing.
    public var smoothingStrength: Float?
    /// The texts the float encoder embeds to calibrate the smoothing (the first ``calibrationCount``);
    /// `nil`: ``WordPieceTokenizer/calibrationTexts(count:seed:)``, random words of the vocabulary,
    /// so that no data is needed.
    public var calibrationTexts: [String]?
    /// How many calibration texts are embedded.
    public var calibrationCount: Int

    /// A recipe; by default every layer int8 in `scheme`, unsmoothed.
    public init(
        scheme: QuantizationScheme, feedForwardOutputScheme: QuantizationScheme? = nil,
        keepingFloat: @escaping @Sendable (String) -> Bool = { _ in false }, smoothingStrength: Float? = nil,
        calibrationTexts: [String]? = nil, calibrationCount: Int = 512
    ) {
        self.scheme = scheme
        self.feedForwardOutputScheme = feedForwardOutputScheme
        self.keepingFloat = keepingFloat
        self.smoothingStrength = smoothingStrength
        self.calibrationTexts = calibrationTexts
        self.calibrationCount = calibrationCount
    }

    /// The default, chosen by measurement on all-MiniLM-L6-v2 and the 2,113 movie-snippets test
    /// texts (docs/compression.md): per-channel weights smoothed with strength 0.6 on 512
    /// vocabulary-word texts, the feed-forward outputs in `q8_0`. Cosine to float32 ≥ 0.997 on every
    /// text whichever vocabulary sample calibrates it, and faster than `q8_0` throughout (per-channel
    /// throughout is faster still, but its minimum cosine falls to 0.987–0.994 with the sample).
    public static let measured = EncoderQuantization(scheme: .perChannel, feedForwardOutputScheme: .q8_0, smoothingStrength: 0.6)

    /// The scheme of the int8 layer `name`.
    public func scheme(ofLayer name: String) -> QuantizationScheme {
        SentenceEncoder.isFeedForwardOutput(name) ? feedForwardOutputScheme ?? scheme : scheme
    }

    /// Checks the settings a caller can get wrong.
    /// - Throws: ``DataError`` for a strength outside [0, 1], a non-positive count or empty texts.
    func validate() throws {
        if let strength = smoothingStrength, !(strength >= 0 && strength <= 1) {
            throw DataError.invalidRequest("the smoothing strength must be between 0 and 1, not \(strength)")
        }
        guard calibrationCount >= 1 else {
            throw DataError.invalidRequest("the calibration count must be positive, not \(calibrationCount)")
        }
        if smoothingStrength != nil, let texts = calibrationTexts, texts.isEmpty {
            throw DataError.invalidRequest("smoothing needs at least one calibration text")
        }
    }
}

extension WordPieceTokenizer {
    /// `count` texts of 5 to 40 words drawn at random (seeded, the same on every machine) from the
    /// vocabulary's whole words (ASCII letters only; no `##` pieces, no `[…]` entries): calibration
    /// input for an encoder when no data is at hand. The activations whose outliers smoothing tames
    /// come from fixed hidden dimensions, which any text of real words reaches.
    /// - Throws: ``DataError`` when the vocabulary has no such word.
    public func calibrationTexts(count: Int, seed: UInt64 = 1) throws -> [String] {
        let words = vocabulary.filter { entry in
            !entry.isEmpty && entry.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") }
        }
        guard !words.isEmpty else {
            throw DataError.invalidRequest("the vocabulary has no whole words to build calibration texts from; give calibration texts")
        }
        var state = seed
        func next(_ bound: Int) -> Int {
            // SplitMix64: small, and the same sequence everywhere.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
        return (0..<max(count, 0)).map { _ in
            (0..<(5 + next(36))).map { _ in words[next(words.count)] }.joined(separator: " ")
        }
    }
}

extension SentenceEncoder {
    /// Quantises the encoder's Linear layers to int8 as `recipe` says (dynamic: activations per row
    /// at run time). With smoothing, the float encoder first embeds the recipe's calibration texts
    /// (``calibrateSmoothing(_:batchSize:)``) in batches of `batchSize`.
    /// - Returns: the record of what became int8 and what stayed float (no stored weights: the
    ///   embedding tables stay float in memory).
    /// - Throws: ``DataError`` unless the encoder runs in float32 and is not quantised yet, or for a
    ///   recipe ``EncoderQuantization`` refuses.
    @discardableResult
    public func quantize(_ recipe: EncoderQuantization, batchSize: Int = 64) throws -> QuantizationRecord {
        guard precision == .fp32 else {
            throw DataError.invalidRequest("an int8 encoder computes its activations in float32; load it with precision fp32, not \(precision)")
        }
        try recipe.validate()
        var record = QuantizationRecord(scheme: recipe.scheme, int8Layers: [], int8StoredWeights: [], floatLayers: [])
        var smoothing: [String: Tensor] = [:]
        if let strength = recipe.smoothingStrength {
            let texts = try calibrationTexts(for: recipe)
            smoothing = try calibrateSmoothing(texts, batchSize: batchSize)
            (record.smoothingStrength, record.smoothingTexts) = (strength, texts.count)
        }
        for (name, layer) in model.quantizableLayers() {
            if recipe.keepingFloat(name) {
                record.floatLayers.append(name)
                continue
            }
            let scheme = recipe.scheme(ofLayer: name)
            if let maxima = smoothing[name], let strength = recipe.smoothingStrength {
                let matrix = try layer.weight.value.reshaped(layer.weightMatrixShape)
                try layer.useQuantizedWeight(QuantizedMatrix(quantizing: matrix, scheme: scheme, smoothing: maxima, strength: strength))
            } else {
                try layer.quantize(scheme)
            }
            record.int8Layers.append(name)
            record.record(scheme, ofLayer: name)
        }
        return record
    }

    /// The texts that calibrate `recipe`'s smoothing: the first ``EncoderQuantization/calibrationCount``
    /// of its texts, else as many vocabulary-word texts.
    public func calibrationTexts(for recipe: EncoderQuantization) throws -> [String] {
        if let texts = recipe.calibrationTexts { return Array(texts.prefix(recipe.calibrationCount)) }
        return try tokenizer.calibrationTexts(count: recipe.calibrationCount)
    }

    /// The largest input per column of every Linear layer while the float encoder embeds `texts`:
    /// the calibration ``quantize(_:batchSize:)`` smooths with.
    /// - Throws: unless the encoder runs in float32 and has not been quantised yet.
    public func calibrateSmoothing(_ texts: [String], batchSize: Int = 64) throws -> [String: Tensor] {
        guard precision == .fp32 else {
            throw DataError.invalidRequest("calibration runs the float32 encoder, not \(precision)")
        }
        guard model.quantizableLayers().allSatisfy({ $0.layer.quantizedWeight == nil }) else {
            throw DataError.invalidRequest("calibration runs the float encoder: this one is already quantised")
        }
        guard !texts.isEmpty else { throw DataError.invalidRequest("smoothing needs at least one calibration text") }
        return try model.calibrateInputColumnMaxima { _ = try embed(texts, batchSize: batchSize) }
    }
}
