import CortadoTraining
import Foundation
import Testing

/// The tokenizer with the real all-MiniLM-L6-v2 vocabulary against the ids that Hugging Face's
/// tokenizers gave for the fixture's texts (tools/minilm-reference).
@Suite("Transformer: WordPiece tokenizer against the Hugging Face reference")
struct WordPieceReferenceTests {
    @Test("every reference text: the same ids, tokens and mask, truncated to its maximum length")
    func referenceTexts() throws {
        let fixture = try MiniLMFixture.load()
        let tokenizer = try RealModel.tokenizer()
        #expect(fixture.texts.count >= 6)
        for reference in fixture.texts {
            let encoding = try tokenizer.encode(reference.text, maxLength: reference.maxLength)
            #expect(encoding.ids == reference.ids, "ids of \(reference.text.debugDescription)")
            #expect(encoding.tokens == reference.tokens, "tokens of \(reference.text.debugDescription)")
            #expect(encoding.attentionMask == reference.attentionMask.map(Float.init))
            #expect(encoding.truncated == (reference.ids.count == reference.maxLength && reference.maxLength < 256),
                    "truncation of \(reference.text.debugDescription)")
        }
        // The long text really was cut: 16 ids, the last of them [SEP].
        let long = try #require(fixture.texts.first { $0.maxLength == 16 })
        #expect(long.ids.count == 16 && long.ids.last == tokenizer.separatorId)
        #expect(tokenizer.wordPieceIds(long.text).count > 14)
    }

    @Test("the padded batch: the same ids, mask and shape")
    func referenceBatch() throws {
        let fixture = try MiniLMFixture.load()
        let tokenizer = try RealModel.tokenizer()
        let batch = try tokenizer.encode(batch: fixture.batchTexts, maxLength: fixture.batchMaxLength)
        #expect(batch.shape == fixture.batchShape)
        #expect(batch.ids == fixture.batchIds)
        #expect(batch.attentionMask == fixture.batchAttentionMask.map(Float.init))
        #expect(batch.lengths == (0..<batch.batchSize).map { row in
            fixture.batchAttentionMask[(row * batch.sequenceLength)..<((row + 1) * batch.sequenceLength)].reduce(0) { $0 + Int($1) }
        })
        #expect(Set(batch.lengths).count > 1, "the reference batch should mix lengths, so that it is padded")
    }

    @Test("the tokenizer-only cases: control characters, Hangul, CJK, emoji, long words, special tokens")
    func tokenizerCases() throws {
        let fixture = try MiniLMFixture.load()
        let tokenizer = try RealModel.tokenizer()
        #expect(fixture.tokenizerCases.count >= 10)
        for (text, ids) in fixture.tokenizerCases {
            let encoding = try tokenizer.encode(text, maxLength: 512)
            #expect(encoding.ids == ids, "ids of \(text.debugDescription): \(encoding.tokens) vs \(tokenizer.tokens(ids))")
        }
    }
}
