import ArgumentParser
import CortadoTraining
import Foundation

/// The hyperparameters `cortado train` uses for a model when the flags leave them out.
///
/// For `bert-classifier` they are those of the usual BERT fine-tuning recipe (Devlin et al. 2019,
/// and the PyTorch reference run of issue 7): batch 32, AdamW at 5e-5, 10 % linear warm-up, then
/// linear decay to 0 over all steps. Weight decay is 0.01, `torch.optim.AdamW`'s default, applied to
/// every parameter as a plain PyTorch loop does (Hugging Face's `Trainer` defaults to 0 and, when
/// set, spares biases and LayerNorms; at lr 5e-5 over a few hundred steps either choice shrinks the
/// weights by well under 0.1 %).
struct TrainingDefaults {
    var batchSize = 64
    var optimizer: OptimizerChoice = .adam
    /// `nil`: the optimizer's own default.
    var learningRate: Float?
    var weightDecay: Float = 0
    var schedule: ScheduleChoice = .constant
    var warmup: Double = 0

    /// The defaults for `model`.
    init(_ model: BuiltinModel) {
        guard model.readsWordPieces else { return }
        batchSize = 32
        optimizer = .adamw
        learningRate = 5e-5
        weightDecay = 0.01
        schedule = .linear
        warmup = 0.1
    }
}

extension TrainCommand {
    /// bert-classifier's data: the texts as WordPiece ids of the pretrained directory's tokenizer
    /// (or the resumed checkpoint's vocabulary), with, when not resuming, the pretrained encoder and
    /// its new head.
    func loadWordPieces(_ spec: String, recorded: CheckpointConfiguration?, device: Device, generator: RandomGenerator) throws -> TrainingData {
        let lowered = spec.lowercased()
        let isFile = [".csv", ".tsv", ".csv.gz", ".tsv.gz"].contains { lowered.hasSuffix($0) }
        guard isFile || TextData.isText(spec, textColumn: textColumn ?? recorded?.textColumn) else {
            throw ValidationError("--model bert-classifier reads text, and --data \(spec) is not text: give a corpus (\(TextCorpus.knownNames)) or a CSV/TSV file of labelled texts")
        }
        let texts = try TextSource.resolve(
            spec, textColumn: textColumn ?? recorded?.textColumn, labelColumn: labelColumn ?? recorded?.labelColumn).load()
        let task: Task = texts.classNames.count == 2 ? .binaryClassification : .classification
        let outputs = task.outputs(classes: texts.classNames.count)

        let settings: BertClassifierSettings, tokenizer: WordPieceTokenizer, maxLength: Int
        var pretrained: PretrainedClassifier?
        if let recorded {
            guard let recordedSettings = recorded.bert, let recordedLength = recorded.maxLength else {
                throw ValidationError("the checkpoint to resume names bert-classifier but records no BERT architecture, vocabulary or maximum length")
            }
            (settings, tokenizer, maxLength) = (recordedSettings, try recordedSettings.tokenizer(), recordedLength)
        } else {
            let directory = try PretrainedModelDirectory(path: initDirectory ?? PretrainedModelDirectory.defaultPath)
            let positions = try directory.loadConfig().maxPositionEmbeddings
            guard maxLen >= 2, maxLen <= positions else {
                throw ValidationError("--max-len \(maxLen) must be between 2 (room for [CLS] and [SEP]) and the \(positions) positions of \(directory.configURL.path)")
            }
            let loaded = try PretrainedClassifier(directory: directory, outputs: outputs, device: device, generator: generator)
            (settings, tokenizer, maxLength, pretrained) = (loaded.settings, loaded.tokenizer, maxLen, loaded)
        }
        var data = TrainingData(split: try texts.wordPieceEncoded(tokenizer: tokenizer, maxLength: maxLength), task: task,
                                classNames: texts.classNames, classCount: texts.classNames.count)
        data.wordPieces = tokenizer
        data.bert = settings
        data.pretrained = pretrained
        return data
    }
}
