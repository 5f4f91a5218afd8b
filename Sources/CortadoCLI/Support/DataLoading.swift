import CortadoTraining
import Foundation

/// Loading data for the commands: a test split prepared the way a checkpoint expects (training
/// data is loaded by the library's ``TrainingData``).
enum DataLoading {
    /// The test split of `spec` prepared for `checkpoint`: the same sample shape and, for CSV, the
    /// checkpoint's target column and standardisation.
    static func forEvaluation(_ spec: String, checkpoint: CheckpointConfiguration) throws -> Dataset {
        let source = try DataSource.resolve(spec)
        var test: Dataset
        switch source {
        case .csv(let path):
            guard let target = checkpoint.targetColumn else {
                throw TrainingError.incompatibleData("the checkpoint was not trained on CSV data; --data \(spec) does not fit it")
            }
            let table = try CSVTable.read(path: path)
            test = try table.dataset(target: target).everyFifthHeldOut().test
            if let standardization = checkpoint.standardization { test = try standardization.apply(to: test) }
        case .mnistDirectory:
            test = try source.load(target: nil).split.test
        }
        if checkpoint.task == .classification && test.classCount == nil {
            test = try test.classifying(classCount: checkpoint.outputs)
        }
        guard test.sampleShape == checkpoint.sampleShape else {
            throw TrainingError.incompatibleData(
                "the checkpoint's model takes samples of shape \(checkpoint.sampleShape), but \(spec) has \(test.sampleShape)")
        }
        if let classes = test.classCount, classes > checkpoint.outputs {
            throw TrainingError.incompatibleData("\(spec) has \(classes) classes, the checkpoint's model predicts \(checkpoint.outputs)")
        }
        return test
    }
}
