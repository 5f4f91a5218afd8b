import Cortado
import CortadoNN
import CortadoTraining
import Foundation
import Testing

@Suite("Transformer: BERT encoder")
struct BertEncoderTests {
    static let tiny = BertArchitecture(
        vocabularySize: 11, hiddenSize: 8, layerCount: 2, attentionHeads: 2, intermediateSize: 12, maxPositions: 6,
        typeVocabularySize: 2, layerNormEpsilon: 1e-5, hiddenDropout: 0, attentionDropout: 0)

    @Test("parameters carry Hugging Face's names", arguments: [false, true])
    func names(preLayerNorm: Bool) throws {
        var architecture = Self.tiny
        architecture.preLayerNorm = preLayerNorm
        let model = try BertModel(architecture, device: .cpu, generator: RandomGenerator(seed: 1))
        let names = model.namedParameters().map(\.name)
        #expect(names.count == 5 + 16 * 2)
        for expected in ["embeddings.word_embeddings.weight", "embeddings.LayerNorm.bias",
                         "encoder.layer.1.attention.self.value.weight", "encoder.layer.0.attention.output.LayerNorm.weight",
                         "encoder.layer.1.intermediate.dense.bias", "encoder.layer.0.output.dense.weight"] {
            #expect(names.contains(expected), "\(expected)")
        }
    }

    @Test("an encoder block's gradients match finite differences, with padding, post- and pre-LayerNorm",
          arguments: TestDevices.all)
    func blockGradients(device: Device) throws {
        for preLayerNorm in [false, true] {
            var architecture = Self.tiny
            architecture.preLayerNorm = preLayerNorm
            let block = try TransformerEncoderLayer(architecture, initializerRange: 0.5, device: device,
                                                    generator: RandomGenerator(seed: 3))
            block.eval()
            let mask = try Tensor([1, 1, 1, 1, 1, 1, 0, 0], shape: [2, 4], device: device)
            let x = try Tensor(Fixtures.values(2 * 4 * 8, seed: 4), shape: [2, 4, 8], device: device)
            try checkModuleGradients(FixedMaskModule("block", block, mask: mask) { try $0($1, mask: $2) }, input: x, eps: 1e-2, rtol: 3e-2, atol: 3e-3,
                                     "block (preLayerNorm \(preLayerNorm))")
        }
    }

    @Test("padding changes nothing at the real positions", arguments: TestDevices.all)
    func paddingIsInvisible(device: Device) throws {
        let model = try BertModel(Self.tiny, initializerRange: 0.5, device: device, generator: RandomGenerator(seed: 5))
        model.eval()
        let alone = try model(Tensor(indices: [2, 7, 3], shape: [1, 3], device: device)).toArray()
        let padded = try model(Tensor(indices: [2, 7, 3, 0, 0], shape: [1, 5], device: device),
                               mask: Tensor([1, 1, 1, 0, 0], shape: [1, 5], device: device)).toArray()
        assertClose(Array(padded.prefix(3 * 8)), alone, rtol: 1e-5, atol: 1e-5)
    }

    @Test("all-MiniLM-L6-v2 reproduces the reference hidden states and embeddings", arguments: [Device.cpu, TestDevices.openCL])
    func miniLM(device: Device) throws {
        let fixture = try MiniLMFixture.load()
        let directory = try RealModel.directory()
        let tokenizer = try RealModel.tokenizer()
        let encoder = try directory.loadEncoder(device: device)
        for reference in fixture.texts {
            let encoding = try tokenizer.encode(reference.text, maxLength: reference.maxLength)
            #expect(encoding.ids == reference.ids, "\(reference.text)")
            let ids = try Tensor(indices: encoding.ids, shape: [1, encoding.ids.count], device: device)
            let mask = try Tensor(encoding.attentionMask, shape: [1, encoding.ids.count], device: device)
            let hidden = try encoder(ids, mask: mask)
            assertClose(try hidden.toArray(), reference.lastHiddenState, rtol: 1e-4, atol: 1e-4, "hidden: \(reference.text)")
            let embedding = try hidden.meanPooled(mask: mask).l2Normalized().toArray()
            assertClose(embedding, reference.embedding, rtol: 1e-4, atol: 1e-4, "embedding: \(reference.text)")
            let cosine = zip(embedding, reference.embedding).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(cosine >= 0.9999, "\(reference.text): cosine \(cosine)")
        }
        let batch = try tokenizer.encode(batch: fixture.batchTexts, maxLength: fixture.batchMaxLength)
        #expect(batch.ids == fixture.batchIds && batch.shape == fixture.batchShape)
        let mask = try Tensor(batch.attentionMask, shape: batch.shape, device: device)
        let hidden = try encoder(Tensor(indices: batch.ids, shape: batch.shape, device: device), mask: mask)
        assertClose(try hidden.toArray(), fixture.batchLastHiddenState, rtol: 1e-4, atol: 1e-4, "padded batch hidden states")
        assertClose(try hidden.meanPooled(mask: mask).l2Normalized().toArray(), fixture.batchEmbeddings,
                    rtol: 1e-4, atol: 1e-4, "padded batch embeddings")
    }
}
