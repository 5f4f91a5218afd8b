import CortadoTraining
import Foundation

/// Text data for the commands: a corpus or a labelled CSV/TSV file, tokenized as Keras would
/// (lstm, gru) or with a BERT WordPiece vocabulary (bert-classifier).
enum TextData {
    /// The encoded test split of `spec` for a text checkpoint; its classes must match the checkpoint's.
    static func forEvaluation(_ spec: String, checkpoint: CheckpointConfiguration) throws -> Dataset {
        guard checkpoint.readsText, let maxLength = checkpoint.maxLength else {
            throw TrainingError.incompatibleData("the checkpoint's model does not read text; \(spec) does not fit it")
        }
        let texts = try TextSource.resolve(spec, textColumn: checkpoint.textColumn, labelColumn: checkpoint.labelColumn).load()
        if let classes = checkpoint.classNames, classes != texts.classNames {
            throw TrainingError.incompatibleData(
                "the checkpoint predicts the classes \(classes), but \(spec) has \(texts.classNames)")
        }
        if let bert = checkpoint.bert {
            return try texts.wordPieceEncoded(tokenizer: bert.tokenizer(), maxLength: maxLength).test
        }
        guard let tokenizer = checkpoint.tokenizer else {
            throw TrainingError.incompatibleData("the checkpoint records no tokenizer for its text model")
        }
        return try texts.encoded(tokenizer: tokenizer, maxLength: maxLength).test
    }
}
