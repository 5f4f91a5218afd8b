import CortadoTraining
import Foundation
import Testing

@Suite("Text: encoding for the trainer, and the data directory")
struct TextEncodingTests {
    @Test("an encoded split holds the ids as Float features of shape [maxLength] and the labels as classes")
    func encodedSplit() throws {
        let texts = ["good film", "bad film", "good good", "bad", "so good a film it is", "bad bad film"]
        let split = TextSplit.everyFifthHeldOut(try TextDataset(texts: texts, labels: [1, 0, 1, 0, 1, 0], classNames: ["neg", "pos"]))
        let tokenizer = try Tokenizer(fitting: split.train.texts, vocabularySize: 10)
        #expect(tokenizer.vocabulary == ["<pad>", "<oov>", "bad", "good", "film"])
        let encoded = try split.encoded(tokenizer: tokenizer, maxLength: 3)
        #expect(encoded.train.sampleShape == [3])
        #expect(encoded.train.features == [0, 3, 4, 0, 2, 4, 0, 3, 3, 0, 0, 2, 2, 2, 4])
        #expect(encoded.train.targets == .classes(labels: [1, 0, 1, 0, 0], classCount: 2))
        #expect(encoded.test.features == [4, 1, 1])  // the last 3 words of "so good a film it is"
        #expect(encoded.test.targets == .classes(labels: [1], classCount: 2))
        expectDataError(containing: ["sequence length must be positive"]) { _ = try split.encoded(tokenizer: tokenizer, maxLength: 0) }
    }

    @Test("a batch of encoded texts becomes an int32 index tensor of the batch's input shape")
    func indexTensor() throws {
        let dataset = try TextDataset(texts: ["good film", "bad film", "bad"], labels: [1, 0, 0], classNames: ["neg", "pos"])
        let tokenizer = try Tokenizer(fitting: dataset.texts, vocabularySize: 10)
        let loader = try BatchLoader(dataset: try dataset.encoded(tokenizer: tokenizer, maxLength: 4), batchSize: 2, shuffle: false, seed: 0)
        let batch = try #require(Array(loader.batches(epoch: 0)).first)
        let tensor = try batch.indexTensor(device: .cpu)
        #expect(tensor.dtype == .int32)
        #expect(tensor.shape == [2, 4])
        #expect(try tensor.toIntArray() == [0, 0, 4, 2, 0, 0, 3, 2])  // film and bad twice (film seen first), good once
        #expect(try batch.targetTensor(device: .cpu).toIntArray() == [1, 0])
        let embedding = try Embedding(vocabulary: tokenizer.vocabularySize, dimension: 3, device: .cpu)
        #expect(try embedding(tensor).shape == [2, 4, 3])

        let fractional = try BatchLoader(
            dataset: try Dataset(features: [1, 2.5], sampleShape: [2], targets: .values([0])), batchSize: 1, shuffle: false, seed: 0)
        let bad = try #require(Array(fractional.batches(epoch: 0)).first)
        expectDataError(containing: ["input 1", "2.5", "not a whole number"]) { _ = try bad.indexTensor(device: .cpu) }
    }

    @Test("text data sets check their parts")
    func datasetChecks() throws {
        expectDataError(containing: ["2 texts but 1 labels"]) { _ = try TextDataset(texts: ["a", "b"], labels: [0], classNames: ["x", "y"]) }
        expectDataError(containing: ["label 2 is outside 0..<2"]) { _ = try TextDataset(texts: ["a"], labels: [2], classNames: ["x", "y"]) }
        let one = try TextDataset(texts: ["a"], labels: [0], classNames: ["x", "y"])
        let other = try TextDataset(texts: ["a"], labels: [0], classNames: ["y", "x"])
        expectDataError(containing: ["different classes"]) { _ = try TextSplit(train: one, test: other) }
        #expect(try TextSplit(train: one, test: one).classNames == ["x", "y"])
        #expect(one.classCounts == [1, 0])
    }

    @Test("the data directory: CORTADO_DATA_DIR, else an absolute XDG_DATA_HOME/cortado, else ~/.local/share/cortado")
    func dataDirectory() {
        #expect(CortadoData.directory(environment: ["CORTADO_DATA_DIR": "/d", "XDG_DATA_HOME": "/x", "HOME": "/h"]) == "/d")
        #expect(CortadoData.directory(environment: ["CORTADO_DATA_DIR": "", "XDG_DATA_HOME": "/x", "HOME": "/h"]) == "/x/cortado")
        #expect(CortadoData.directory(environment: ["XDG_DATA_HOME": "relative/dir", "HOME": "/h"]) == "/h/.local/share/cortado")
        #expect(CortadoData.directory(environment: ["HOME": "/h"]) == "/h/.local/share/cortado")
        #expect(CortadoData.directory == CortadoData.directory(environment: ProcessInfo.processInfo.environment))
    }
}
