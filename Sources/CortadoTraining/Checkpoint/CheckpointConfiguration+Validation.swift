import Foundation

extension CheckpointConfiguration {
    /// The most elements one input sample may have (16 M): larger shapes describe no model
    /// Cortado trains and would only make an allocation fail.
    public static let maximumSampleElements = 1 << 24
    /// The most outputs (classes) a checkpoint may declare.
    public static let maximumOutputs = 1 << 20

    /// Checks that the configuration is self-consistent and that its sizes are plausible, before
    /// anything is built from it: counts not negative, sizes within ``TrainingOptions/Limits``,
    /// the task agreeing with the outputs and the class names, a text model's sequence length
    /// agreeing with its sample shape and its vocabulary with its vocabulary size.
    /// - Throws: ``CheckpointError`` naming `url` and the field at fault.
    public func validate(url: URL) throws {
        func fail(_ problem: String) -> CheckpointError {
            CheckpointError(url, "its configuration is contradictory or corrupt: \(problem)")
        }
        guard epochsCompleted >= 0, epochsCompleted <= TrainingOptions.Limits.epochs else {
            throw fail("epochsCompleted is \(epochsCompleted), not a number of epochs from 0 to \(TrainingOptions.Limits.epochs)")
        }
        guard steps >= 0 else { throw fail("steps is \(steps), a negative number of optimizer steps") }
        if let stepsIntoEpoch {
            guard stepsIntoEpoch >= 0 else {
                throw fail("stepsIntoEpoch is \(stepsIntoEpoch), a negative number of steps")
            }
        }
        if let lossScaler {
            guard lossScaler.scale.isFinite, lossScaler.scale > 0, lossScaler.cleanSteps >= 0, lossScaler.skippedSteps >= 0 else {
                throw fail("lossScaler has scale \(lossScaler.scale), cleanSteps \(lossScaler.cleanSteps), skippedSteps \(lossScaler.skippedSteps): the scale must be positive and finite, the counts not negative")
            }
        }
        if let widths {
            let defaults = model.defaultWidths
            guard widths.count == defaults.count, zip(widths, defaults).allSatisfy({ $0 >= 1 && $0 <= $1 }) else {
                throw fail("widths \(widths) do not fit the \(model.rawValue) model (\(defaults.count) widths, each from 1 to \(defaults))")
            }
        }
        guard batchSize >= 1, batchSize <= TrainingOptions.Limits.batchSize else {
            throw fail("batchSize is \(batchSize), not between 1 and \(TrainingOptions.Limits.batchSize)")
        }
        guard outputs >= 1, outputs <= Self.maximumOutputs else {
            throw fail("outputs is \(outputs), not between 1 and \(Self.maximumOutputs)")
        }
        guard !sampleShape.isEmpty, sampleShape.count <= 8, sampleShape.allSatisfy({ $0 >= 1 && $0 <= Self.maximumSampleElements }),
              let elements = checkedElementCount(sampleShape), elements <= Self.maximumSampleElements
        else {
            throw fail("sampleShape \(sampleShape) is not a shape of 1 to 8 positive sizes with at most \(Self.maximumSampleElements) elements")
        }
        switch task {
        case .regression, .binaryClassification:
            guard outputs == 1 else { throw fail("a \(task.rawValue) model has 1 output, but outputs is \(outputs)") }
        case .classification:
            guard outputs >= 2 else { throw fail("a classification model has at least 2 outputs (one per class), but outputs is \(outputs)") }
        }
        if let classNames {
            let expected = task == .binaryClassification ? 2 : outputs
            guard task != .regression, classNames.count == expected else {
                throw fail("classNames has \(classNames.count) names, but the \(task.rawValue) model has \(outputs) output\(outputs == 1 ? "" : "s")")
            }
        }
        if let featureColumns, featureColumns.count != elements {
            throw fail("featureColumns names \(featureColumns.count) columns, but sampleShape \(sampleShape) has \(elements) features")
        }
        if let maxLength {
            guard maxLength >= 1, maxLength <= TrainingOptions.Limits.maxLength else {
                throw fail("maxLength is \(maxLength), not between 1 and \(TrainingOptions.Limits.maxLength)")
            }
        }
        if model.readsTokens {
            guard let tokenizer, let maxLength else { throw fail("a \(model.rawValue) model records no tokenizer or maxLength") }
            guard sampleShape == [maxLength] else {
                throw fail("maxLength is \(maxLength), but the samples have shape \(sampleShape)")
            }
            guard tokenizer.vocabulary.count <= tokenizer.vocabularySize else {
                throw fail("the tokenizer's \(tokenizer.vocabulary.count) words exceed its vocabularySize \(tokenizer.vocabularySize)")
            }
        }
        if model.readsWordPieces {
            guard let bert, let maxLength else { throw fail("a bert-classifier records no BERT architecture or maxLength") }
            do {
                try bert.architecture.validate()
            } catch {
                throw fail("\(error)")
            }
            guard maxLength >= 2, maxLength <= bert.architecture.maxPositions else {
                throw fail("maxLength \(maxLength) is not between 2 and the \(bert.architecture.maxPositions) positions of its BERT")
            }
            guard bert.vocabulary.count <= bert.architecture.vocabularySize else {
                throw fail("its WordPiece vocabulary has \(bert.vocabulary.count) entries, more than the vocabularySize \(bert.architecture.vocabularySize) of its BERT")
            }
            do {
                try MemoryBudget.require(4 * bert.architecture.parameterEstimate, for: "its BERT architecture")
            } catch let error as TrainingError {
                throw fail(error.description)
            }
        }
    }
}
