import Cortado
import CortadoNN
import Foundation
import Testing

@Suite("Layers")
struct LayerTests {
    @Test("Linear computes x·Wᵀ + b and its gradients", arguments: TestDevices.all)
    func linear(device: Device) throws {
        let generator = RandomGenerator(seed: 1)
        let layer = try Linear(5, 3, biasInitializer: .uniform(low: -1, high: 1), device: device, generator: generator)
        let x = Fixtures.values(4 * 5, seed: 2)
        let w = try layer.weight.value.toArray(), b = try layer.bias!.value.toArray()
        var expected = Reference.matmul(x, Reference.transpose(w, rows: 3, cols: 5), m: 4, k: 5, n: 3)
        for i in expected.indices { expected[i] += b[i % 3] }
        try assertClose(layer(Tensor(x, shape: [4, 5], device: device)), expected, shape: [4, 3], rtol: 1e-5, atol: 1e-6)
        try checkModuleGradients(layer, input: Tensor(x, shape: [4, 5], device: device), "Linear")
        // Batched input [2, 2, 5] works through the same weights.
        #expect(try layer(Tensor(x, shape: [2, 2, 5], device: device)).shape == [2, 2, 3])
    }

    @Test("Conv2D matches a direct convolution and its gradients", arguments: TestDevices.all)
    func conv2d(device: Device) throws {
        let layer = try Conv2D(2, 3, kernelSize: Size2D(3, 2), stride: Size2D(1, 2), padding: 1,
                               biasInitializer: .uniform(low: -1, high: 1), device: device, generator: RandomGenerator(seed: 3))
        let x = Fixtures.values(2 * 2 * 5 * 6, seed: 4)
        let expected = Reference.conv2d(x, [2, 2, 5, 6], try layer.weight.value.toArray(), [3, 2, 3, 2],
                                        bias: try layer.bias!.value.toArray(), stride: (1, 2), padding: (1, 1), dilation: (1, 1))
        try assertClose(layer(Tensor(x, shape: [2, 2, 5, 6], device: device)), expected.values, shape: expected.shape, rtol: 1e-4, atol: 1e-5)
        try checkModuleGradients(layer, input: Tensor(x, shape: [2, 2, 5, 6], device: device), "Conv2D")
    }

    @Test("pooling, flatten and activation layers", arguments: TestDevices.all)
    func simpleLayers(device: Device) throws {
        let x = try Tensor(Fixtures.distinct(2 * 3 * 4 * 4, seed: 5), shape: [2, 3, 4, 4], device: device)
        #expect(try MaxPool2D(2)(x).shape == [2, 3, 2, 2])
        #expect(try AvgPool2D(2, stride: 1)(x).shape == [2, 3, 3, 3])
        #expect(try Flatten()(x).shape == [2, 48])
        let model = Sequential(MaxPool2D(2), Flatten(), ReLU(), Sigmoid(), Tanh(), GELU(), Softmax())
        let y = try model(x)
        #expect(y.shape == [2, 12])
        for row in try y.sum(axes: [1]).toArray() { #expect(abs(row - 1) < 1e-5) }
        try checkModuleGradients(model, input: x, eps: 1e-3, "activation chain")
    }

    @Test("Dropout drops with the right rate, scales the rest, and is the identity in eval", arguments: TestDevices.all)
    func dropout(device: Device) throws {
        let layer = try Dropout(0.25, generator: RandomGenerator(seed: 6))
        let x = try Tensor.ones([200, 100], device: device).requiringGrad()
        let y = try layer(x)
        let values = try y.toArray()
        let dropped = Double(values.filter { $0 == 0 }.count) / Double(values.count)
        #expect(abs(dropped - 0.25) < 0.02, "dropped fraction \(dropped)")
        #expect(values.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
        try y.sum().backward()
        #expect(try x.grad!.toArray() == values, "the gradient is the mask")
        layer.eval()
        #expect(try layer(x).toArray() == [Float](repeating: 1, count: 20_000))
        #expect(throws: CortadoError.self) { try Dropout(1) }
    }

    @Test("BatchNorm normalises per channel, tracks running statistics, and uses them in eval", arguments: TestDevices.all)
    func batchNorm(device: Device) throws {
        let layer = try BatchNorm(3, momentum: 0.1, device: device)
        let values = Fixtures.values(4 * 3 * 2 * 2, seed: 7, low: -2, high: 3)
        let x = try Tensor(values, shape: [4, 3, 2, 2], device: device)
        let y = try layer(x).toArray()
        // Hand-computed per-channel statistics over N, H, W.
        for channel in 0..<3 {
            let members = (0..<values.count).filter { ($0 / 4) % 3 == channel }
            let xs = members.map { Double(values[$0]) }
            let mean = xs.reduce(0, +) / 16
            let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 16
            let ys = members.map { Double(y[$0]) }
            for (xv, yv) in zip(xs, ys) { #expect(abs(yv - (xv - mean) / (variance + 1e-5).squareRoot()) < 1e-4) }
            #expect(abs(Double(try layer.runningMean.value.toArray()[channel]) - 0.1 * mean) < 1e-5)
            #expect(abs(Double(try layer.runningVariance.value.toArray()[channel]) - (0.9 + 0.1 * variance * 16 / 15)) < 1e-5)
        }
        layer.eval()
        let mean = try layer.runningMean.value.toArray(), variance = try layer.runningVariance.value.toArray()
        let evaluated = try layer(x).toArray()
        for i in values.indices {
            let channel = (i / 4) % 3
            #expect(abs(evaluated[i] - (values[i] - mean[channel]) / (variance[channel] + 1e-5).squareRoot()) < 1e-4)
        }
        layer.train()
        // BatchNorm1d over [N, C, L] in training mode.
        try checkModuleGradients(layer, input: Tensor(Fixtures.values(4 * 3 * 2, seed: 8), shape: [4, 3, 2], device: device),
                                 eps: 1e-3, "BatchNorm1d")
    }

    @Test("Embedding looks up rows and sums gradients of repeated ids", arguments: TestDevices.all)
    func embedding(device: Device) throws {
        let layer = try Embedding(vocabulary: 5, dimension: 3, device: device, generator: RandomGenerator(seed: 9))
        let table = try layer.weight.value.toArray()
        let ids = try Tensor(indices: [4, 0, 4, 2], shape: [2, 2], device: device)
        let y = try layer(ids)
        #expect(y.shape == [2, 2, 3])
        try assertClose(y, [4, 0, 4, 2].flatMap { Array(table[($0 * 3)..<($0 * 3 + 3)]) })
        try (y * Tensor.arange(12, device: device).reshaped([2, 2, 3])).sum().backward()
        // Row 4 gets positions 0 and 2: [0,1,2] + [6,7,8]; row 0 gets [3,4,5]; row 2 gets [9,10,11].
        try assertClose(layer.weight.gradient!, [3, 4, 5, 0, 0, 0, 9, 10, 11, 0, 0, 0, 6, 8, 10])
    }

    @Test("LSTM: one step by hand, sequences, and gradients", arguments: TestDevices.all)
    func lstm(device: Device) throws {
        let layer = try LSTM(inputSize: 2, hiddenSize: 3, device: device, generator: RandomGenerator(seed: 10))
        let wih = try layer.weightIH.value.toArray(), whh = try layer.weightHH.value.toArray(), b = try layer.bias.value.toArray()
        let x: [Float] = [0.5, -1, 2, 0.25]  // batch 2, time 1, features 2
        let h = try layer(Tensor(x, shape: [2, 1, 2], device: device)).toArray()
        func sigmoid(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        for row in 0..<2 {
            var gates = [Double](repeating: 0, count: 12)
            for j in 0..<12 { gates[j] = Double(b[j]) + Double(wih[j * 2]) * Double(x[row * 2]) + Double(wih[j * 2 + 1]) * Double(x[row * 2 + 1]) }
            for unit in 0..<3 {
                let i = sigmoid(gates[unit]), g = Foundation.tanh(gates[6 + unit]), o = sigmoid(gates[9 + unit])
                let c = i * g  // the initial cell state is zero, so the forget gate drops out
                #expect(abs(Double(h[row * 3 + unit]) - o * Foundation.tanh(c)) < 1e-5)
            }
        }
        _ = whh  // the initial hidden state is zero: W_hh does not enter the first step
        let sequence = try LSTM(inputSize: 2, hiddenSize: 3, returnSequences: true, device: device, generator: RandomGenerator(seed: 11))
        let input = try Tensor(Fixtures.values(2 * 4 * 2, seed: 12), shape: [2, 4, 2], device: device)
        #expect(try sequence(input).shape == [2, 4, 3])
        try checkModuleGradients(sequence, input: input, eps: 1e-2, "LSTM")
    }

    @Test("modules name parameters stably, switch modes, move, and round-trip their state")
    func moduleTree() throws {
        let model = Sequential(try Conv2D(1, 2, kernelSize: 3), ReLU(), try BatchNorm(2), Flatten(), try Linear(8, 3))
        #expect(model.namedParameters().map(\.name) == [
            "0.weight", "0.bias", "2.weight", "2.bias", "2.running_mean", "2.running_var", "4.weight", "4.bias",
        ])
        #expect(model.trainableParameters().count == 6)
        #expect(model.parameterCount == 2 * 9 + 2 + 2 + 2 + 8 * 3 + 3)
        model.eval()
        #expect(!model.isTraining && !model.layers[2].isTraining)
        model.train()
        #expect(model.layers.allSatisfy { $0.isTraining })
        let openCL = try Device("opencl")
        try model.move(to: openCL)
        #expect(model.device == openCL)
        let x = try Tensor.uniform([2, 1, 4, 4], device: openCL)
        model.eval()
        let before = try model(x).toArray()
        let copy = Sequential(try Conv2D(1, 2, kernelSize: 3), ReLU(), try BatchNorm(2), Flatten(), try Linear(8, 3))
        try copy.move(to: .cpu)  // the default device is `auto`: a GPU, where there is one
        try copy.loadState(Dictionary(uniqueKeysWithValues: model.stateTensors()))
        copy.eval()
        assertClose(try copy(x.to(.cpu)).toArray(), before, rtol: 1e-5, atol: 1e-6, "state round trip")
        var partial = Dictionary(uniqueKeysWithValues: model.stateTensors())
        partial["4.bias"] = nil
        #expect(throws: CortadoError.self) { try copy.loadState(partial) }
        partial["4.bias"] = try Tensor.zeros([4])
        #expect(throws: CortadoError.self) { try copy.loadState(partial) }
    }

    @Test("initialisers follow their bounds")
    func initializers() throws {
        // A private stream: the global one's position depends on which tests ran before.
        let generator = RandomGenerator(seed: 71)
        let glorot = try Initializer.glorotUniform.make([200, 300], fanIn: 300, fanOut: 200, device: .cpu, generator: generator).toArray()
        let bound = Float((6.0 / 500).squareRoot())
        // Sampling in float may land one rounding step past the bound.
        let largest = glorot.map { abs($0) }.max() ?? 0
        #expect(largest <= bound.nextUp && largest > bound * 0.99)
        let kaiming = try Initializer.kaimingUniform(a: Float(5).squareRoot()).make(
            [64, 100], fanIn: 100, fanOut: 64, device: .cpu, generator: generator).toArray()
        #expect(kaiming.allSatisfy { abs($0) <= 0.1 + 1e-6 })
        let normal = try Initializer.kaimingNormal.make([100_000], fanIn: 50, fanOut: 1, device: .cpu, generator: generator).toArray()
        let variance = normal.reduce(0.0) { $0 + Double($1 * $1) } / Double(normal.count)
        #expect(abs(variance - 2.0 / 50) < 0.002)
        #expect(try Initializer.zeros.make([3], fanIn: 1, fanOut: 1, device: .cpu).toArray() == [0, 0, 0])
    }

    @Test("orthogonal: orthonormal columns of tall matrices and rows of wide ones, times the gain")
    func orthogonal() throws {
        func gram(_ m: [Float], rows: Int, cols: Int, ofColumns: Bool) -> [Float] {
            let n = ofColumns ? cols : rows
            var g = [Float](repeating: 0, count: n * n)
            for a in 0..<n {
                for b in 0..<n {
                    var dot: Double = 0
                    for k in 0..<(ofColumns ? rows : cols) {
                        dot += ofColumns ? Double(m[k * cols + a] * m[k * cols + b]) : Double(m[a * cols + k] * m[b * cols + k])
                    }
                    g[a * n + b] = Float(dot)
                }
            }
            return g
        }
        func identity(_ n: Int, _ scale: Float) -> [Float] { (0..<(n * n)).map { $0 / n == $0 % n ? scale : 0 } }
        let tall = try Initializer.orthogonal(gain: 1).make([40, 10], fanIn: 10, fanOut: 40, device: .cpu, generator: RandomGenerator(seed: 4)).toArray()
        assertClose(gram(tall, rows: 40, cols: 10, ofColumns: true), identity(10, 1), atol: 1e-5, "QᵀQ")
        let wide = try Initializer.orthogonal(gain: 2).make([6, 15], fanIn: 15, fanOut: 6, device: .cpu, generator: RandomGenerator(seed: 5)).toArray()
        assertClose(gram(wide, rows: 6, cols: 15, ofColumns: false), identity(6, 4), atol: 1e-5, "QQᵀ with gain 2")
    }

    @Test("recurrent layers start as Keras: orthogonal W_hh, zero biases, the LSTM's forget gate at 1")
    func kerasRecurrentInitialization() throws {
        let lstm = try LSTM(inputSize: 5, hiddenSize: 4, device: .cpu, generator: RandomGenerator(seed: 8))
        #expect(try lstm.bias.value.toArray() == [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        let whh = try lstm.weightHH.value.toArray()  // [16, 4]: orthonormal columns
        for a in 0..<4 {
            for b in 0..<4 {
                let dot = (0..<16).reduce(Float(0)) { $0 + whh[$1 * 4 + a] * whh[$1 * 4 + b] }
                #expect(abs(dot - (a == b ? 1 : 0)) < 1e-5)
            }
        }
        let bound = (6 / Float(5 + 16)).squareRoot()
        #expect(try lstm.weightIH.value.toArray().allSatisfy { abs($0) <= bound })
        let gru = try GRU(inputSize: 5, hiddenSize: 4, device: .cpu, generator: RandomGenerator(seed: 9))
        #expect(try gru.biasIH.value.toArray().allSatisfy { $0 == 0 } && gru.biasHH.value.toArray().allSatisfy { $0 == 0 })
        let torch = try LSTM(inputSize: 5, hiddenSize: 4, initialization: .pytorch, device: .cpu, generator: RandomGenerator(seed: 8))
        #expect(try torch.bias.value.toArray().allSatisfy { abs($0) <= 0.5 } && torch.bias.value.toArray().contains { $0 != 0 })
    }
}
