import Cortado
import CortadoNN
@testable import CortadoTraining
import Foundation
import Testing

/// `--norm taylor`: each unit's importance is the derivative of the loss with respect to a common
/// scale of the columns that read it (checked by central differences, scaling those columns in
/// every tensor of the group), and structured pruning keeps the units it ranks highest.
@Suite("Taylor importance for structured pruning")
struct TaylorImportanceTests {
    static let batch = Batch(inputs: [], inputShape: [0], labels: nil, targets: nil, count: 0, sampleIndices: [])

    /// The cross-entropy of `model` on the two-sample input of `configuration`, in double.
    static func loss(_ model: any Module, _ configuration: CheckpointConfiguration) throws -> Tensor {
        try Losses.crossEntropy(logits: model(PruningTests.input(configuration)), labels: Tensor(indices: [0, 2], shape: [2]))
    }

    @Test("each unit's score is |dL/dε| for its columns scaled by 1 + ε (central differences)",
          arguments: [BuiltinModel.cnn, .lstm, .bertClassifier])
    func matchesDifferences(kind: BuiltinModel) throws {
        let configuration = try PruningTests.configuration(kind)
        let model = try PruningTests.model(configuration)
        let scores = try Pruning.taylorImportance(of: model, configuration: configuration, batches: [Self.batch]) { _ in
            try Self.loss(model, configuration)
        }
        let layout = try StructuredLayout(configuration)
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter) })
        let epsilon: Float = 1e-2
        for (index, group) in layout.groups.enumerated() {
            var numeric: [Float] = []
            for unit in 0..<group.count {
                let saved = try group.columns.map { try #require(parameters[$0]).value.toArray() }
                func scaled(_ factor: Float) throws -> Double {
                    for (name, values) in zip(group.columns, saved) {
                        let parameter = try #require(parameters[name]), shape = parameter.value.shape
                        let length = shape.dropFirst().reduce(1, *), block = length / group.count
                        var changed = values
                        for row in 0..<shape[0] {
                            for column in (unit * block)..<((unit + 1) * block) { changed[row * length + column] *= factor }
                        }
                        try parameter.replace(with: Tensor(changed, shape: shape))
                    }
                    return Double(try withNoGrad { try Self.loss(model, configuration).item() })
                }
                let difference = (try scaled(1 + epsilon) - scaled(1 - epsilon)) / Double(2 * epsilon)
                _ = try scaled(1)
                numeric.append(Float(abs(difference)))
            }
            assertClose(scores[index].map(Float.init), numeric, rtol: 2e-2, atol: 3e-4, "\(kind) \(group.name)")
        }
        #expect(scores.flatMap { $0 }.contains { $0 > 1e-3 }, "\(kind): all scores near zero")
        #expect(model.namedParameters().allSatisfy { $0.parameter.value.grad == nil }, "gradients left behind")
    }

    @Test("structured pruning keeps the units with the largest importance; bad uses are errors")
    func keepsImportant() throws {
        var configuration = try PruningTests.configuration(.mlp)
        configuration.sampleShape = [4]
        configuration.widths = [3]
        let model = try ModelCheckpoint.makeModel(for: configuration, device: .cpu)
        let weights = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter) })
        try weights["1.bias"]?.replace(with: Tensor([10, 20, 30], shape: [3]))
        let (pruned, _, record) = try Pruning.structured(model, configuration: configuration, sparsity: 0.34, importance: [[0.5, 0.1, 0.9]])
        let kept = Dictionary(uniqueKeysWithValues: pruned.namedParameters().map { ($0.name, $0.parameter.value) })
        try assertClose(#require(kept["1.bias"]), [10, 30], shape: [2])
        #expect(record.norm == .taylor)
        #expect(throws: CortadoError.self) {
            try Pruning.structured(model, configuration: configuration, sparsity: 0.34, importance: [[0.5, 0.1]])
        }
        #expect(throws: TrainingError.self) { try Pruning.structured(model, configuration: configuration, sparsity: 0.34, norm: .taylor) }
        let error = try #require(throws: TrainingError.self) { try PruningOptions(sparsity: 0.3, norm: .taylor).validate() }
        #expect("\(error)".contains("--structured"), "\(error)")
    }
}
