import CortadoTraining
import Foundation

/// Loading data for the commands: the training split with its standardisation, or a split
/// prepared the way a checkpoint expects.
enum DataLoading {
    /// Training data for `--data` (and `--target` for CSV), classified or not per the task.
    static func forTraining(
        _ spec: String, target: String?, task requested: Task?
    ) throws -> (split: DatasetSplit, standardization: FeatureStandardization?, task: Task, featureColumns: [String]?) {
        let source = try DataSource.resolve(spec)
        let loaded = try source.load(target: target)
        var split = loaded.split
        var featureColumns: [String]?
        if case let .csv(path) = source, let target {
            featureColumns = try CSVTable.read(path: path).featureColumns(target: target)
        }
        let natural: Task = split.train.classCount != nil ? .classification : .regression
        let task = requested ?? natural
        if task == .classification && split.train.classCount == nil { split = try split.classifying() }
        if task == .regression && split.train.classCount != nil {
            throw TrainingError.incompatibleData("\(spec) holds class labels; use --task classification (the default for it)")
        }
        return (split, loaded.standardization, task, featureColumns)
    }

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
