import Cortado
import CortadoNN
@testable import CortadoTraining
import Foundation
import Testing

/// Magnitude pruning in the library: structured pruning keeps the function of the part it keeps
/// (closed form: removed units have zero weights, so removing them changes nothing), ranks units
/// by the chosen norm, re-packs shapes and configuration; unstructured pruning zeroes exactly
/// round(s·n) weights per matrix and leaves biases and embeddings alone.
@Suite("Pruning")
struct PruningTests {
    /// A configuration for `model`, as `cortado train` would record it.
    static func configuration(_ model: BuiltinModel) throws -> CheckpointConfiguration {
        var sampleShape = [1, 12, 12], tokenizer: Tokenizer?, maxLength: Int?, bert: BertClassifierSettings?
        switch model {
        case .lstm, .gru:
            sampleShape = [5]
            tokenizer = try Tokenizer(fitting: ["a b c d e f g", "a b c"], vocabularySize: 12)
            maxLength = 5
        case .bertClassifier:
            sampleShape = [5]
            maxLength = 5
            let architecture = BertArchitecture(vocabularySize: 16, hiddenSize: 8, layerCount: 2, attentionHeads: 4, intermediateSize: 12,
                                                maxPositions: 8, hiddenDropout: 0, attentionDropout: 0)
            bert = BertClassifierSettings(architecture: architecture, vocabulary: [])
        default: break
        }
        return CheckpointConfiguration(
            model: model, task: .classification, sampleShape: sampleShape, outputs: 3, data: "unused", targetColumn: nil,
            featureColumns: nil, standardization: nil, optimizer: "adam", optimizerHyperparameters: [:],
            schedule: LearningRateSchedule(base: 0.001), steps: 7, epochsCompleted: 1, batchSize: 4, seed: 1,
            tokenizer: tokenizer, maxLength: maxLength, bert: bert)
    }

    /// A model of `configuration` with seeded normal weights (biases too), in evaluation mode.
    static func model(_ configuration: CheckpointConfiguration, seed: UInt64 = 5) throws -> any Module {
        let model = try ModelCheckpoint.makeModel(for: configuration, device: .cpu)
        let generator = RandomGenerator(seed: seed)
        for (_, parameter) in model.namedParameters() {
            let shape = parameter.value.shape
            try parameter.replace(with: Initializer.normal(mean: 0, std: 0.5).make(shape, fanIn: 1, fanOut: 1, generator: generator))
        }
        model.eval()
        return model
    }

    /// An input batch of two samples for `configuration`'s model.
    static func input(_ configuration: CheckpointConfiguration) throws -> Tensor {
        if configuration.model.readsText {
            return try Tensor([1, 2, 3, 4, 5, 5, 4, 3, 2, 1], shape: [2, 5], dtype: .int32)
        }
        let count = 2 * configuration.sampleShape.reduce(1, *)
        return try Tensor((0..<count).map { sin(Float($0) * 0.37) }, shape: [2] + configuration.sampleShape)
    }

    /// Zeroes, in every group of the layout, the rows (weights and biases, in every gate block) of
    /// the units `removed` picks, so that those units output exactly zero.
    static func silence(_ model: any Module, layout: StructuredLayout, removed: (UnitGroup) -> Set<Int>) throws {
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter) })
        for group in layout.groups {
            let units = removed(group)
            for (name, gates) in group.rows {
                let parameter = try #require(parameters[name], "\(name)")
                var values = try parameter.value.toArray()
                let rows = parameter.value.shape[0], span = values.count / rows, block = rows / (gates * group.count)
                for gate in 0..<gates {
                    for unit in units {
                        let start = (gate * group.count + unit) * block * span
                        for index in start..<start + block * span { values[index] = 0 }
                    }
                }
                try parameter.replace(with: Tensor(values, shape: parameter.value.shape))
            }
        }
    }

    @Test("structured pruning of zero-weight units leaves the outputs unchanged",
          arguments: [BuiltinModel.mlp, .cnn, .lenet, .lstm, .gru, .bertClassifier])
    func keepsFunction(kind: BuiltinModel) throws {
        var configuration = try Self.configuration(kind)
        if kind == .lenet { configuration.sampleShape = [1, 16, 16] }
        let model = try Self.model(configuration)
        let layout = try StructuredLayout(configuration)
        // Half of each group's units (every other one from the second) carry zero weights.
        try Self.silence(model, layout: layout) { group in Set(stride(from: 1, to: group.count, by: 2)) }
        let x = try Self.input(configuration)
        let before = try model(x).toArray()

        let (pruned, prunedConfiguration, record) = try Pruning.structured(model, configuration: configuration, sparsity: 0.5)
        pruned.eval()
        // Other shapes, other summation orders (OpenBLAS blocks them differently): rounding only.
        try assertClose(pruned(x), before, rtol: 1e-4, atol: 1e-4, "\(kind)")
        #expect(record.groups.map(\.after) == layout.groups.map { ($0.count + 1) / 2 })
        #expect(record.parametersAfter == pruned.parameterCount && record.parametersAfter < record.parametersBefore)
        #expect(prunedConfiguration.steps == 0 && prunedConfiguration.epochsCompleted == 0)
        #expect(!record.dense.isEmpty)
        // The new configuration alone rebuilds a model of the pruned shapes.
        let rebuilt = try ModelCheckpoint.makeModel(for: prunedConfiguration, device: .cpu)
        #expect(rebuilt.namedParameters().map(\.parameter.value.shape) == pruned.namedParameters().map(\.parameter.value.shape))
    }

    @Test("a structurally pruned model computes the same on cpu and opencl (narrower heads, fewer channels and units)",
          arguments: [BuiltinModel.cnn, .lstm, .bertClassifier], TestDevices.openCLVariants)
    func acrossBackends(kind: BuiltinModel, device: Device) throws {
        let configuration = try Self.configuration(kind)
        let (pruned, _, _) = try Pruning.structured(try Self.model(configuration), configuration: configuration, sparsity: 0.3)
        pruned.eval()
        let x = try Self.input(configuration)
        let expected = try pruned(x).toArray()
        try pruned.move(to: device)
        try assertClose(pruned(x.to(device)), expected, rtol: 1e-4, atol: 1e-5, "\(kind) on \(device)")
    }

    @Test("the re-packed shapes and configuration: cnn channels, lstm gates, bert heads and feed-forward rows")
    func shapes() throws {
        let cnn = try Self.configuration(.cnn)
        let (cnnModel, cnnConfiguration, _) = try Pruning.structured(try Self.model(cnn), configuration: cnn, sparsity: 0.5)
        let cnnShapes = Dictionary(uniqueKeysWithValues: cnnModel.namedParameters().map { ($0.name, $0.parameter.value.shape) })
        #expect(cnnConfiguration.widths == [16, 32])
        #expect(cnnShapes["0.weight"] == [16, 1, 3, 3] && cnnShapes["0.bias"] == [16])
        #expect(cnnShapes["4.weight"] == [32, 16 * 5 * 5] && cnnShapes["4.bias"] == [32] && cnnShapes["6.weight"] == [3, 32])

        let lstm = try Self.configuration(.lstm)
        let (lstmModel, lstmConfiguration, _) = try Pruning.structured(try Self.model(lstm), configuration: lstm, sparsity: 0.25)
        let lstmShapes = Dictionary(uniqueKeysWithValues: lstmModel.namedParameters().map { ($0.name, $0.parameter.value.shape) })
        #expect(lstmConfiguration.widths == [96, 96])
        #expect(lstmShapes["0.weight"]?[1] == 128)  // the embedding stays
        #expect(lstmShapes["1.weight_ih"] == [4 * 96, 128] && lstmShapes["1.weight_hh"] == [4 * 96, 96] && lstmShapes["1.bias"] == [4 * 96])
        #expect(lstmShapes["3.weight_ih"] == [4 * 96, 96] && lstmShapes["5.weight"] == [3, 96])

        let bert = try Self.configuration(.bertClassifier)
        let (bertModel, bertConfiguration, record) = try Pruning.structured(try Self.model(bert), configuration: bert, sparsity: 0.3)
        let architecture = try #require(bertConfiguration.bert?.architecture)
        // 4 heads of 2: round(1.2) = 1 removed; 12 rows: round(3.6) = 4 removed.
        #expect(architecture.attentionHeads == 3 && architecture.headSize == 2 && architecture.intermediateSize == 8)
        #expect(architecture.hiddenSize == 8)
        let bertShapes = Dictionary(uniqueKeysWithValues: bertModel.namedParameters().map { ($0.name, $0.parameter.value.shape) })
        #expect(bertShapes["encoder.layer.1.attention.self.query.weight"] == [6, 8])
        #expect(bertShapes["encoder.layer.1.attention.self.value.bias"] == [6])
        #expect(bertShapes["encoder.layer.1.attention.output.dense.weight"] == [8, 6])
        #expect(bertShapes["encoder.layer.0.intermediate.dense.weight"] == [8, 8] && bertShapes["encoder.layer.0.output.dense.weight"] == [8, 8])
        #expect(record.groups.map(\.name).contains("encoder.layer.1: attention heads"))
    }

    @Test("units are ranked by the norm asked for: l1 and l2 keep different units")
    func ranking() throws {
        var configuration = try Self.configuration(.mlp)
        configuration.sampleShape = [4]
        configuration.widths = [2]
        let model = try ModelCheckpoint.makeModel(for: configuration, device: .cpu)
        let weights = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter) })
        // Unit 0: l1 3, l2 3; unit 1: l1 4, l2 2.
        try weights["1.weight"]?.replace(with: Tensor([3, 0, 0, 0, -1, 1, 1, -1], shape: [2, 4]))
        try weights["1.bias"]?.replace(with: Tensor([10, 20], shape: [2]))
        try weights["3.weight"]?.replace(with: Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2]))
        for (norm, unit) in [(PruningNorm.l1, 1), (.l2, 0)] {
            let (pruned, _, _) = try Pruning.structured(model, configuration: configuration, sparsity: 0.5, norm: norm)
            let kept = Dictionary(uniqueKeysWithValues: pruned.namedParameters().map { ($0.name, $0.parameter.value) })
            try assertClose(#require(kept["1.weight"]), unit == 0 ? [3, 0, 0, 0] : [-1, 1, 1, -1], shape: [1, 4], "\(norm)")
            try assertClose(#require(kept["1.bias"]), [unit == 0 ? 10 : 20], shape: [1], "\(norm)")
            try assertClose(#require(kept["3.weight"]), unit == 0 ? [1, 3, 5] : [2, 4, 6], shape: [3, 1], "\(norm)")
        }
    }

    @Test("unstructured pruning zeroes exactly round(s·n) of each weight matrix and nothing else", arguments: [0.0, 0.3, 0.5, 0.9])
    func unstructuredFraction(sparsity: Double) throws {
        let configuration = try Self.configuration(.lstm)
        let model = try Self.model(configuration)
        let before = Dictionary(uniqueKeysWithValues: try model.namedParameters().map { ($0.name, try $0.parameter.value.toArray()) })
        let masks = try Pruning.unstructured(model, sparsity: sparsity)
        #expect(Pruning.prunableWeights(of: model) == ["1.weight_ih", "1.weight_hh", "3.weight_ih", "3.weight_hh", "5.weight"])
        #expect(Set(masks.masks.keys) == Set(Pruning.prunableWeights(of: model)))
        for (name, parameter) in model.namedParameters() {
            let values = try parameter.value.toArray(), original = try #require(before[name])
            guard masks.masks[name] != nil else {
                #expect(values == original, "\(name) is not a prunable weight and must not change")
                continue
            }
            let zeros = values.filter { $0 == 0 }.count
            #expect(zeros == Int((sparsity * Double(values.count)).rounded()), "\(name)")
            // The zeros are the smallest magnitudes: every kept weight is at least as large as every pruned one.
            let pruned = zip(values, original).filter { $0.0 == 0 }.map { abs($0.1) }
            let kept = zip(values, original).filter { $0.0 != 0 }.map { abs($0.1) }
            #expect((pruned.max() ?? 0) <= (kept.min() ?? .infinity), "\(name)")
            #expect(zip(values, original).allSatisfy { $0.0 == 0 || $0.0 == $0.1 }, "\(name): kept weights keep their values")
        }
    }

    @Test("masks put pruned weights back to zero after an optimizer step")
    func masksHold() throws {
        let configuration = try Self.configuration(.mlp)
        let model = try Self.model(configuration)
        let masks = try Pruning.unstructured(model, sparsity: 0.5)
        let zerosBefore = try model.namedParameters().filter { masks.masks[$0.name] != nil }.map { try $0.parameter.value.toArray().map { $0 == 0 } }
        let optimizer = try Adam(model.trainableParameters(), learningRate: 0.1)
        model.train()
        let loss = try model(Self.input(configuration)).sum()
        try loss.backward()
        try optimizer.step()
        try masks.apply(to: model)
        let after = try model.namedParameters().filter { masks.masks[$0.name] != nil }.map { try $0.parameter.value.toArray() }
        for (zeros, values) in zip(zerosBefore, after) {
            #expect(zip(zeros, values).allSatisfy { !$0.0 || $0.1 == 0 })
            #expect(zip(zeros, values).contains { !$0.0 && $0.1 != 0 })
        }
    }

    @Test("bad options are errors naming the flag", arguments: [1.0, -0.1, .nan, .infinity])
    func badSparsity(sparsity: Double) throws {
        let configuration = try Self.configuration(.mlp)
        let model = try Self.model(configuration)
        #expect(throws: TrainingError.self) { try Pruning.unstructured(model, sparsity: sparsity) }
        do {
            _ = try Pruning.structured(model, configuration: configuration, sparsity: sparsity)
            Issue.record("sparsity \(sparsity) was accepted")
        } catch {
            #expect("\(error)".contains("--sparsity"))
        }
        #expect(throws: TrainingError.self) {
            _ = try Pruning.structured(model, configuration: try Self.configuration(.linear), sparsity: 0.5)
        }
    }
}
