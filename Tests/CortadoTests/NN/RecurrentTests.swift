import Cortado
import CortadoNN
import Foundation
import Testing

@Suite("Recurrent layers")
struct RecurrentTests {
    @Test("GRU: one step by hand, and gradients by finite differences", arguments: TestDevices.all)
    func gru(device: Device) throws {
        let layer = try GRU(inputSize: 2, hiddenSize: 3, device: device, generator: RandomGenerator(seed: 21))
        let wih = try layer.weightIH.value.toArray(), bih = try layer.biasIH.value.toArray(), bhh = try layer.biasHH.value.toArray()
        let x: [Float] = [0.5, -1, 2, 0.25]  // batch 2, time 1
        let h = try layer(Tensor(x, shape: [2, 1, 2], device: device)).toArray()
        func sigmoid(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        for row in 0..<2 {
            func input(_ j: Int) -> Double { Double(bih[j]) + Double(wih[j * 2]) * Double(x[row * 2]) + Double(wih[j * 2 + 1]) * Double(x[row * 2 + 1]) }
            for unit in 0..<3 {
                // h_0 = 0, so h·W_hhᵀ = 0 and only the recurrent biases remain.
                let r = sigmoid(input(unit) + Double(bhh[unit]))
                let z = sigmoid(input(3 + unit) + Double(bhh[3 + unit]))
                let n = Foundation.tanh(input(6 + unit) + r * Double(bhh[6 + unit]))
                #expect(abs(Double(h[row * 3 + unit]) - (1 - z) * n) < 1e-5)
            }
        }
        let sequence = try GRU(inputSize: 2, hiddenSize: 3, returnSequences: true, device: device, generator: RandomGenerator(seed: 22))
        try checkModuleGradients(sequence, input: Tensor(Fixtures.values(2 * 4 * 2, seed: 23), shape: [2, 4, 2], device: device), "GRU")
    }

    @Test("a padding mask carries the state through padded steps, with correct gradients", arguments: TestDevices.all)
    func mask(device: Device) throws {
        let lstm = try LSTM(inputSize: 2, hiddenSize: 3, returnSequences: true, device: device, generator: RandomGenerator(seed: 24))
        let gru = try GRU(inputSize: 2, hiddenSize: 3, returnSequences: true, device: device, generator: RandomGenerator(seed: 25))
        let x = try Tensor(Fixtures.values(2 * 5 * 2, seed: 26), shape: [2, 5, 2], device: device)
        // Row 0: two padded steps first (pre-padding); row 1: a padded step in the middle.
        let mask = try Tensor([0, 0, 1, 1, 1, 1, 1, 0, 1, 1], shape: [2, 5], device: device)
        for (name, run) in [("LSTM", { try lstm($0, mask: mask) }), ("GRU", { try gru($0, mask: mask) })] as [(String, (Tensor) throws -> Tensor)] {
            let out = try run(x).toArray()
            // Padded leading steps keep the zero initial state; a padded middle step repeats the previous one.
            #expect(out[0..<6].allSatisfy { $0 == 0 }, "\(name) pre-padding")
            #expect(Array(out[(5 + 2) * 3..<(5 + 3) * 3]) == Array(out[(5 + 1) * 3..<(5 + 2) * 3]), "\(name) middle padding")
        }
        // Gradients through masked sequences: Σ output · w by finite differences.
        try checkGradients(on: device, [(Fixtures.values(2 * 5 * 12, seed: 27), [2, 5, 12]), (Fixtures.values(36, seed: 28), [12, 3])], eps: 1e-2, "masked lstm op") {
            try $0[0].lstm(recurrentWeight: $0[1], mask: mask)
        }
        try checkGradients(on: device, [(Fixtures.values(2 * 5 * 9, seed: 29), [2, 5, 9]), (Fixtures.values(27, seed: 30), [9, 3]), (Fixtures.values(9, seed: 31), [9])],
                           eps: 1e-2, "masked gru op") {
            try $0[0].gru(recurrentWeight: $0[1], recurrentBias: $0[2], mask: mask)
        }
    }

    @Test("a row's outputs and input gradients do not depend on the rest of its batch (the CPU splits batches over cores)",
          arguments: TestDevices.all)
    func rowIndependence(device: Device) throws {
        let (batch, steps, hidden, row) = (20, 20, 64, 13)
        let weight = try Tensor(Fixtures.values(4 * hidden * hidden, seed: 41, low: -0.3, high: 0.3), shape: [4 * hidden, hidden], device: device)
        let values = Fixtures.values(batch * steps * 4 * hidden, seed: 42)
        func run(_ x: [Float], rows: Int) throws -> (output: [Float], gradient: [Float]) {
            let input = try Tensor(x, shape: [rows, steps, 4 * hidden], device: device).requiringGrad()
            let output = try input.lstm(recurrentWeight: weight)
            try (output * output).sum().backward()
            return (try output.toArray(), try #require(input.grad).toArray())
        }
        let all = try run(values, rows: batch)
        let width = steps * 4 * hidden
        let alone = try run(Array(values[(row * width)..<((row + 1) * width)]), rows: 1)
        #expect(alone.output == Array(all.output[(row * steps * hidden)..<((row + 1) * steps * hidden)]))
        #expect(alone.gradient == Array(all.gradient[(row * width)..<((row + 1) * width)]))
    }

    @Test("Embedding gradients by finite differences", arguments: TestDevices.all)
    func embeddingGradients(device: Device) throws {
        let layer = try Embedding(vocabulary: 6, dimension: 4, device: device, generator: RandomGenerator(seed: 32))
        try checkModuleGradients(layer, input: Tensor(indices: [5, 0, 2, 5, 5, 1], shape: [2, 3], device: device), "Embedding")
    }

    @Test("bad recurrent inputs are errors", arguments: TestDevices.all)
    func badInputs(device: Device) throws {
        let lstm = try LSTM(inputSize: 2, hiddenSize: 3, device: device)
        #expect(throws: CortadoError.self) { try lstm(Tensor.zeros([2, 4, 3], device: device)) }
        #expect(throws: CortadoError.self) { try lstm(Tensor.zeros([2, 4, 2], device: device), mask: Tensor.zeros([2, 3], device: device)) }
        #expect(throws: CortadoError.self) { try Tensor.zeros([2, 4, 12], device: device).lstm(recurrentWeight: Tensor.zeros([12, 4], device: device)) }
    }
}
