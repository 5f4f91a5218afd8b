import Cortado
import CortadoTraining
import Foundation
import Testing

@Suite("Transformer: encoder int8 recipe and vocabulary calibration texts")
struct EncoderQuantizationTests {
    @Test("calibration texts: 5 to 40 whole vocabulary words, the same for a seed, others for another")
    func vocabularyTexts() throws {
        let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[unused0]", "##ing", "run", "Walk", "7", "café", "a-b", "sea", ""]
        let tokenizer = try WordPieceTokenizer(vocabulary: vocabulary)
        let texts = try tokenizer.calibrationTexts(count: 200, seed: 1)
        #expect(texts.count == 200)
        let words = texts.map { $0.split(separator: " ").map(String.init) }
        #expect(words.allSatisfy { (5...40).contains($0.count) })
        let used = Set(words.joined())
        #expect(used == ["run", "Walk", "sea"], "\(used)")
        // Lengths spread over the range, not one value.
        #expect(Set(words.map(\.count)).count > 20 && words.contains { $0.count <= 8 } && words.contains { $0.count >= 37 })
        #expect(try tokenizer.calibrationTexts(count: 200, seed: 1) == texts)
        #expect(try tokenizer.calibrationTexts(count: 200, seed: 2) != texts)
        #expect(try tokenizer.calibrationTexts(count: 0).isEmpty)
        let noWords = try WordPieceTokenizer(vocabulary: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "##s", "1"])
        #expect(throws: DataError.self) { try noWords.calibrationTexts(count: 3) }
    }

    @Test("the measured recipe: per-channel, q8_0 feed-forward outputs, strength 0.6 on 512 vocabulary texts")
    func measuredRecipe() {
        let recipe = EncoderQuantization.measured
        #expect(recipe.scheme == .perChannel && recipe.smoothingStrength == 0.6 && recipe.calibrationTexts == nil)
        #expect(recipe.calibrationCount == 512)
        #expect(recipe.scheme(ofLayer: "encoder.layer.3.output.dense") == .q8_0)
        #expect(recipe.scheme(ofLayer: "encoder.layer.3.attention.output.dense") == .perChannel)
        #expect(recipe.scheme(ofLayer: "encoder.layer.3.intermediate.dense") == .perChannel)
        #expect(EncoderQuantization(scheme: .q8_0).scheme(ofLayer: "encoder.layer.0.output.dense") == .q8_0)
    }

    @Test("a recipe with a strength outside [0, 1], no calibration texts or a zero count is refused before anything changes")
    func refusedRecipes() throws {
        let encoder = try SentenceEncoder(directory: RealModel.directory(), device: .cpu)
        for recipe in [EncoderQuantization(scheme: .perChannel, smoothingStrength: 1.5),
                       EncoderQuantization(scheme: .perChannel, smoothingStrength: 0.5, calibrationTexts: []),
                       EncoderQuantization(scheme: .perChannel, smoothingStrength: 0.5, calibrationCount: 0)] {
            #expect(throws: DataError.self) { try encoder.quantize(recipe) }
        }
        #expect(encoder.model.quantizableLayers().allSatisfy { $0.layer.quantizedWeight == nil })
    }
}
