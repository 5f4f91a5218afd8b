/// The model suite of `cortado bench`, as Caffe's `caffe time`: each layer's forward and backward
/// pass, the optimizer update, and a whole training step (samples/s).
public enum ModelBenchmarks {
    /// The cases for `model` at `batchSize` on 28×28 single-channel images with 10 classes.
    public static func cases(_ model: BuiltinModel, batchSize: Int) throws -> [BenchmarkCase] {
        let sampleShape = [1, 28, 28], classes = 10, name = model.rawValue
        @Sendable func build(_ device: Device) throws -> Sequential {
            try model.make(sampleShape: sampleShape, outputs: classes, device: device, generator: RandomGenerator(seed: 4))
        }
        // The input shape of every layer, from one forward pass on the CPU.
        let reference = try build(.cpu)
        var shapes: [[Int]] = [[batchSize] + sampleShape]
        try withNoGrad {
            var x = try Tensor.zeros(shapes[0], device: .cpu)
            for layer in reference.layers {
                x = try layer(x)
                shapes.append(x.shape)
            }
        }

        var cases: [BenchmarkCase] = []
        for (index, layer) in reference.layers.enumerated() {
            let label = "\(name)[\(index)] \(type(of: layer))"
            let inputShape = shapes[index]
            let hasParameters = !layer.trainableParameters().isEmpty
            cases.append(BenchmarkCase("\(label) forward", group: "\(name) layers", work: .none) { device in
                let layer = try build(device).layers[index]
                let x = try Tensor.uniform(inputShape, device: device).requiringGrad(index > 0)
                return { _ = try layer(x) }
            })
            guard index > 0 || hasParameters else { continue }
            cases.append(BenchmarkCase("\(label) backward", group: "\(name) layers", work: .none) { device in
                let layer = try build(device).layers[index]
                let x = try Tensor.uniform(inputShape, device: device).requiringGrad(index > 0)
                let y = try layer(x)
                let dy = try Tensor.uniform(y.shape, device: device)
                return {
                    // Cleared as a training step does, so no gradient accumulation is timed.
                    layer.zeroGrad()
                    x.zeroGrad()
                    try y.backward(gradient: dy)
                }
            })
        }
        @Sendable func batch(_ device: Device) throws -> (Tensor, Tensor) {
            (try Tensor.uniform([batchSize] + sampleShape, device: device),
             try Tensor(indices: (0..<batchSize).map { Int32($0 % classes) }, device: device))
        }
        cases.append(BenchmarkCase("\(name) update (adam)", group: "\(name) step", work: .none) { device in
            let network = try build(device)
            let (x, labels) = try batch(device)
            try Losses.crossEntropy(logits: network(x), labels: labels).backward()
            let adam = try Adam(network.trainableParameters())
            return { try adam.step() }
        })
        cases.append(BenchmarkCase("\(name) training step, batch \(batchSize)", group: "\(name) step", work: .samples(batchSize)) { device in
            let network = try build(device)
            let (x, labels) = try batch(device)
            let adam = try Adam(network.trainableParameters())
            return {
                network.zeroGrad()
                try Losses.crossEntropy(logits: network(x), labels: labels).backward()
                try adam.step()
            }
        })
        return cases
    }
}
