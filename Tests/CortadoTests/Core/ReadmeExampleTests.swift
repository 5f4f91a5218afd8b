import Cortado
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
