import CortadoTraining

/// The model suite of `cortado bench`, as Caffe's `caffe time`: each layer's forward and backward
/// pass, the optimizer update, and a whole training step (samples/s).
public enum ModelBenchmarks {
    /// The cases for `model` at `batchSize`: image models on 28×28 single-channel images with 10
    /// classes; text models on 64-token sequences over a 10,000-word vocabulary with two classes (one
    /// sigmoid output), as the movie-snippets task.
    public static func cases(_ model: BuiltinModel, batchSize: Int) throws -> [BenchmarkCase] {
        let text = model.readsTokens
        let sampleShape = text ? [64] : [1, 28, 28], vocabulary = 10_000
        let classes = text ? 2 : 10, outputs = text ? 1 : 10, name = model.rawValue
        @Sendable func build(_ device: Device) throws -> Sequential {
            try model.make(sampleShape: sampleShape, outputs: outputs, vocabulary: vocabulary, device: device,
                           generator: RandomGenerator(seed: 4))
        }
        /// A batch of inputs for layer 0: token ids for text models, uniform values otherwise.
        @Sendable func modelInput(_ device: Device) throws -> Tensor {
            guard text else { return try Tensor.uniform([batchSize] + sampleShape, device: device) }
            let generator = RandomGenerator(seed: 5)
            return try Tensor(indices: (0..<(batchSize * 64)).map { _ in Int32(generator.nextInt(below: vocabulary)) },
                              shape: [batchSize] + sampleShape, device: device)
        }
        // The input shape of every layer, from one forward pass on the CPU.
        let reference = try build(.cpu)
        var shapes: [[Int]] = [[batchSize] + sampleShape]
        try withNoGrad {
            var x = try modelInput(.cpu)
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
            @Sendable func input(_ device: Device) throws -> Tensor {
                // A hidden layer's input arrives in the compute type, as in a mixed-precision pass.
                index == 0 ? try modelInput(device)
                    : try Tensor.uniform(inputShape, device: device).inComputeType().requiringGrad()
            }
            cases.append(BenchmarkCase("\(label) forward", group: "\(name) layers", work: .none) { device in
                let layer = try build(device).layers[index]
                let x = try input(device)
                return { _ = try layer(x) }
            })
            guard index > 0 || hasParameters else { continue }
            cases.append(BenchmarkCase("\(label) backward", group: "\(name) layers", work: .none) { device in
                let layer = try build(device).layers[index]
                let x = try input(device)
                let y = try layer(x)
                let dy = try Tensor.uniform(y.shape, device: device).to(dtype: y.dtype)
                return {
                    // Cleared as a training step does, so no gradient accumulation is timed.
                    layer.zeroGrad()
                    x.zeroGrad()
                    try y.backward(gradient: dy, retainGraph: true)
                }
            })
        }
        /// The model's loss on a batch: cross-entropy, or binary cross-entropy for text models.
        @Sendable func loss(_ network: Sequential, _ device: Device) throws -> Tensor {
            let logits = try network(modelInput(device))
            let labels = (0..<batchSize).map { Int32($0 % classes) }
            if text {
                return try Losses.binaryCrossEntropy(logits: logits, targets: Tensor(labels.map(Float.init), shape: [batchSize, 1], device: device))
            }
            return try Losses.crossEntropy(logits: logits, labels: Tensor(indices: labels, device: device))
        }
        cases.append(BenchmarkCase("\(name) update (adam)", group: "\(name) step", work: .none) { device in
            let network = try build(device)
            try loss(network, device).backward()
            let adam = try Adam(network.trainableParameters())
            return { try adam.step() }
        })
        cases.append(BenchmarkCase("\(name) training step, batch \(batchSize)", group: "\(name) step", work: .samples(batchSize)) { device in
            let network = try build(device)
            let adam = try Adam(network.trainableParameters())
            return {
                network.zeroGrad()
                try loss(network, device).backward()
                try adam.step()
            }
        })
        return cases
    }
}
