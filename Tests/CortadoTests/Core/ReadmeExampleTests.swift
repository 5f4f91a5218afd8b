import CortadoTraining
import Foundation
import Testing

/// The README's library example, verbatim apart from the device loop, so the manual stays true.
@Suite("README example")
struct ReadmeExampleTests {
    @Test("the library example runs and produces gradients", arguments: TestDevices.all)
    func libraryExample(device: Device) throws {
        try withDefaultDevice(device) {
            let x = try Tensor.uniform([64, 784])
            let w = try Tensor.normal([784, 10], std: 0.05).requiringGrad()
            let b = try Tensor.zeros([10]).requiringGrad()
            let labels = try Tensor(indices: Array(repeating: 3, count: 64))
            let logProbabilities = try (x.matmul(w) + b).logSoftmax(axis: 1)
            let loss = try -logProbabilities.gathered(indices: labels, axis: 1).mean()
            try loss.backward()
            #expect(w.grad?.shape == [784, 10] && b.grad?.device == device)
            // The loss is the mean negative log-probability of class 3, recomputed on the host.
            let logits = try withNoGrad { try x.matmul(w) + b }.toArray()
            var expected = 0.0
            for row in 0..<64 {
                let r = logits[(row * 10)..<(row * 10 + 10)].map(Double.init)
                let m = r.max()!
                expected -= (r[3] - m - Foundation.log(r.map { Foundation.exp($0 - m) }.reduce(0, +))) / 64
            }
            #expect(abs(Double(try loss.item()) - expected) < 1e-4)
            // d loss / d b = mean(softmax) − onehot(3): sums to 0, negative only at the label.
            let db = try b.grad!.toArray()
            #expect(abs(db.reduce(0, +)) < 1e-5)
            #expect(db[3] < 0 && db.enumerated().allSatisfy { $0.offset == 3 || $0.element > 0 })
        }
    }
}

@Suite("README training example")
struct ReadmeTrainingExampleTests {
    @Test("the library training loop runs as written (on a slice of the data) and lowers the loss")
    func trainingLoop() throws {
        let device = try Device("opencl")
        let model = Sequential(
            try Conv2D(1, 32, kernelSize: 3, device: device), ReLU(), MaxPool2D(2), Flatten(),
            try Linear(32 * 13 * 13, 64, device: device), ReLU(), try Linear(64, 10, device: device))
        let optimizer = try Adam(model.trainableParameters(), learningRate: 1e-3)

        let data = try DataSource.resolve("fashion-mnist").load(target: nil).split
        let loader = try BatchLoader(dataset: data.train.prefix(256), batchSize: 64, shuffle: true, seed: 1)
        var losses: [Float] = []
        for epoch in 0..<3 {
            for batch in loader.batches(epoch: epoch) {
                let logits = try model(batch.inputTensor(device: device))
                let loss = try Losses.crossEntropy(logits: logits, labels: batch.targetTensor(device: device))
                model.zeroGrad()
                try loss.backward()
                try optimizer.step()
                losses.append(try loss.item())
            }
        }
        #expect(losses.count == 12)
        // The README's code draws its initial weights from the shared global generator, whose position
        // depends on the tests running beside this one, so only a robust property is asserted.
        let first: Float = losses.prefix(4).reduce(0, +), last: Float = losses.suffix(4).reduce(0, +)
        #expect(last < first, "\(losses)")
    }
}
