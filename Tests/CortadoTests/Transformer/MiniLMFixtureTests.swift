import CortadoTraining
import Foundation
import Testing

/// The reference fixture is consistent with itself and with the published similarities, so that
/// the model tests that compare with it compare with something sound.
@Suite("Transformer: the all-MiniLM-L6-v2 reference fixture")
struct MiniLMFixtureTests {
    @Test("embeddings are the L2-normalised means of the hidden states; the published similarities hold")
    func embeddings() throws {
        let fixture = try MiniLMFixture.load()
        let width = 384
        for reference in fixture.texts {
            #expect(reference.lastHiddenState.count == reference.ids.count * width)
            var mean = [Double](repeating: 0, count: width)
            for token in 0..<reference.ids.count {
                for j in 0..<width { mean[j] += Double(reference.lastHiddenState[token * width + j]) / Double(reference.ids.count) }
            }
            let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
            assertClose(reference.embedding, mean.map { Float($0 / norm) }, rtol: 1e-4, atol: 1e-6, reference.text)
        }
        // sentence-transformers' README: 0.6660, 0.1046, 0.1411 for the first three texts.
        func cosine(_ a: Int, _ b: Int) -> Float {
            zip(fixture.texts[a].embedding, fixture.texts[b].embedding).reduce(0) { $0 + $1.0 * $1.1 }
        }
        #expect(abs(cosine(0, 1) - 0.6660) < 1e-4 && abs(cosine(0, 2) - 0.1046) < 1e-4 && abs(cosine(1, 2) - 0.1411) < 1e-4)
    }

    @Test("each batch row equals its text encoded alone, at the unpadded positions")
    func batchRows() throws {
        let fixture = try MiniLMFixture.load()
        let (rows, length, width) = (fixture.batchShape[0], fixture.batchShape[1], 384)
        #expect(fixture.batchLastHiddenState.count == rows * length * width)
        for (row, text) in fixture.batchTexts.enumerated() {
            let alone = try #require(fixture.texts.first { $0.text == text && $0.maxLength >= fixture.batchMaxLength })
            let count = alone.ids.count
            #expect(Array(fixture.batchIds[(row * length)..<(row * length + count)]) == alone.ids)
            let start = row * length * width
            assertClose(Array(fixture.batchLastHiddenState[start..<(start + count * width)]), alone.lastHiddenState,
                        rtol: 1e-5, atol: 1e-5, "batch row \(row)")
            assertClose(Array(fixture.batchEmbeddings[(row * width)..<((row + 1) * width)]), alone.embedding,
                        rtol: 1e-5, atol: 1e-6, "batch embedding \(row)")
        }
    }
}
