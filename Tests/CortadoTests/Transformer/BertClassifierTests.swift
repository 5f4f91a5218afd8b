import Cortado
import CortadoNN
import CortadoTraining
import Testing

@Suite("Transformer: BERT classifier")
struct BertClassifierTests {
    static let tiny = BertArchitecture(
        vocabularySize: 11, hiddenSize: 8, layerCount: 1, attentionHeads: 2, intermediateSize: 12, maxPositions: 6,
        typeVocabularySize: 2, layerNormEpsilon: 1e-5, hiddenDropout: 0, attentionDropout: 0)

    @Test("names are the encoder's plus classifier.weight and classifier.bias")
    func names() throws {
        let model = try BertClassifier(Self.tiny, outputs: 3, device: .cpu, generator: RandomGenerator(seed: 1))
        let names = model.namedParameters().map(\.name)
        #expect(names.count == 5 + 16 + 2)
        #expect(names.contains("embeddings.word_embeddings.weight") && names.contains("encoder.layer.0.output.dense.bias"))
        #expect(Array(names.suffix(2)) == ["classifier.weight", "classifier.bias"])
        model.eval()
        #expect(!model.encoder.isTraining && !model.encoder.layers[0].dropout.isTraining)
    }

    @Test("gradients match finite differences, with padding", arguments: TestDevices.all)
    func gradients(device: Device) throws {
        let model = try BertClassifier(Self.tiny, outputs: 2, initializerRange: 0.5, device: device,
                                       generator: RandomGenerator(seed: 3))
        model.eval()
        let ids = try Tensor(indices: [2, 7, 5, 3, 2, 9, 3, 0], shape: [2, 4], device: device)
        let mask = try Tensor([1, 1, 1, 1, 1, 1, 1, 0], shape: [2, 4], device: device)
        try checkModuleGradients(FixedMaskModule("classifier", model, mask: mask) { try $0($1, mask: $2) }, input: ids, eps: 1e-2, rtol: 3e-2, atol: 3e-3,
                                 "BertClassifier")
    }

    @Test("a batch cut back to its longest row gives the same logits as the full padding")
    func trimmedBatch() throws {
        let model = try BertClassifier(Self.tiny, outputs: 1, initializerRange: 0.5, device: .cpu,
                                       generator: RandomGenerator(seed: 4))
        model.eval()
        let dataset = try Dataset(features: [2, 7, 3, 0, 0, 0, 2, 5, 9, 3, 0, 0], sampleShape: [6],
                                  targets: .classes(labels: [0, 1], classCount: 2))
        let batch = try #require(Array(BatchLoader(dataset: dataset, batchSize: 2, shuffle: false, seed: 0).batches(epoch: 0)).first)
        let (ids, mask) = try batch.wordPieceTensors(paddingId: 0, device: .cpu)
        #expect(ids.shape == [2, 4])
        #expect(try mask.toArray() == [1, 1, 1, 0, 1, 1, 1, 1])
        let full = try model(Tensor(indices: batch.inputs.map { Int32($0) }, shape: [2, 6], device: .cpu),
                             mask: Tensor(batch.inputs.enumerated().map { $0.offset % 6 < [3, 4][$0.offset / 6] ? 1 : 0 },
                                          shape: [2, 6], device: .cpu))
        assertClose(try model(ids, mask: mask).toArray(), try full.toArray(), rtol: 1e-5, atol: 1e-6, "trimmed")
    }
}
