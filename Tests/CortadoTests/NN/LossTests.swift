import Cortado
import CortadoNN
import Foundation
import Testing

@Suite("Losses")
struct LossTests {
    @Test("mean squared error matches its closed form", arguments: TestDevices.all)
    func meanSquaredError(device: Device) throws {
        let p: [Float] = [1, 2, 3, 4], t: [Float] = [0, 2, 5, 3.5]
        let loss = try Losses.meanSquaredError(Tensor(p, device: device), Tensor(t, device: device))
        #expect(abs(try loss.item() - (1 + 0 + 4 + 0.25) / 4) < 1e-6)
        try checkGradients(on: device, [(p, [2, 2]), (t, [2, 2])], "mse") { try Losses.meanSquaredError($0[0], $0[1]) }
    }

    @Test("cross-entropy equals the mean negative log-softmax of the label, even for huge logits", arguments: TestDevices.all)
    func crossEntropy(device: Device) throws {
        let logits: [Float] = [2, -1, 0.5, 1000, 999, -1000, 0, 0, 0]
        let labels: [Int32] = [0, 1, 2]
        let loss = try Losses.crossEntropy(logits: Tensor(logits, shape: [3, 3], device: device),
                                           labels: Tensor(indices: labels, device: device))
        var expected = 0.0
        for row in 0..<3 {
            let r = logits[(row * 3)..<(row * 3 + 3)].map(Double.init)
            let m = r.max()!
            let logSum = m + Foundation.log(r.map { Foundation.exp($0 - m) }.reduce(0, +))
            expected += (logSum - r[Int(labels[row])]) / 3
        }
        let value = try loss.item()
        #expect(abs(Double(value) - expected) < 1e-4, "\(value) vs \(expected)")
        try checkGradients(on: device, [(Fixtures.values(12, seed: 31), [4, 3])], eps: 1e-3, "cross-entropy") {
            try Losses.crossEntropy(logits: $0[0], labels: Tensor(indices: [2, 0, 1, 1], device: device))
        }
        // An out-of-range label is not silently accepted: the loss is NaN.
        let bad = try Losses.crossEntropy(logits: Tensor(logits, shape: [3, 3], device: device), labels: Tensor(indices: [0, 3, 1], device: device))
        #expect(try bad.item().isNaN)
        #expect(throws: CortadoError.self) { try Losses.crossEntropy(logits: Tensor(logits, shape: [3, 3], device: device), labels: Tensor(indices: [0, 1], device: device)) }
    }

    @Test("binary cross-entropy from logits is stable and matches its closed form", arguments: TestDevices.all)
    func binaryCrossEntropy(device: Device) throws {
        let x: [Float] = [0.3, -2, 100, -100], t: [Float] = [1, 0, 0, 1]
        let loss = try Losses.binaryCrossEntropy(logits: Tensor(x, device: device), targets: Tensor(t, device: device))
        let expected = zip(x, t).map { x, t -> Double in
            let p = 1 / (1 + Foundation.exp(-Double(x)))
            // −[t log p + (1 − t) log(1 − p)], with log(1 − p) for x = 100 written as −x − log(1 + e^−x).
            return t == 1 ? -Foundation.log(p) : Double(x) + Foundation.log1p(Foundation.exp(-Double(x)))
        }.reduce(0, +) / 4
        #expect(abs(Double(try loss.item()) - expected) < 1e-4)
        try checkGradients(on: device, [(Fixtures.values(6, seed: 32, low: -3, high: 3), [6])], eps: 1e-3, "bce") {
            try Losses.binaryCrossEntropy(logits: $0[0], targets: Tensor([1, 0, 1, 1, 0, 0], device: device))
        }
    }
}
