import Foundation

/// What a training run reads: the split, and what a checkpoint must remember to reproduce it.
public struct TrainingData {
    /// The training and test samples.
    public var split: DatasetSplit
    /// Tabular data: the standardisation fitted on the training split.
    public var standardization: FeatureStandardization?
    /// Classification or regression.
    public var task: Task
    /// Tabular data: the feature columns in order.
    public var featureColumns: [String]?
    /// lstm, gru: the tokenizer fitted on the training texts (or the resumed checkpoint's).
    public var tokenizer: Tokenizer?
    /// Classification: the class names, in label order.
    public var classNames: [String]?
    /// bert-classifier: the WordPiece tokenizer.
    public var wordPieces: WordPieceTokenizer?
    /// bert-classifier: the architecture and vocabulary to record.
    public var bert: BertClassifierSettings?
    /// bert-classifier when not resuming: the pretrained encoder with its new head.
    public var pretrained: PretrainedClassifier?
    /// The training split's classes (stored: reading `split.train.classCount` inside the run
    /// crashed Swift 6.3.1's optimiser, CopyPropagation on a borrowed enum).
    public var classCount: Int?

    /// Whether `spec` names text data (a corpus name, or a CSV/TSV file given a text column).
    public static func isText(_ spec: String, textColumn: String?) -> Bool {
        TextCorpus.allCases.contains { $0.rawValue == spec.lowercased() } || textColumn != nil
    }

    /// Loads `spec` for `model`: token sequences for the text models (a fitted tokenizer, or the
    /// resumed checkpoint's), WordPiece ids for bert-classifier, feature values for the others.
    public static func load(
        _ spec: String, model: BuiltinModel, options: TrainingOptions, recorded: CheckpointConfiguration?, device: Device,
        generator: RandomGenerator
    ) throws -> TrainingData {
        if model.readsWordPieces { return try wordPieces(spec, options: options, recorded: recorded, device: device, generator: generator) }
        if model.readsTokens { return try text(spec, options: options, recorded: recorded) }
        if isText(spec, textColumn: options.textColumn ?? recorded?.textColumn) {
            throw TrainingError.invalidOption("--data \(spec) is text: train it with --model lstm, gru or bert-classifier")
        }
        return try features(spec, target: options.target ?? recorded?.targetColumn, task: options.task ?? recorded?.task)
    }

    /// Feature data for `spec` (and `target` for CSV), classified or not per the task.
    public static func features(_ spec: String, target: String?, task requested: Task?) throws -> TrainingData {
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
        let classes = split.train.classCount
        return TrainingData(
            split: split, standardization: loaded.standardization, task: task, featureColumns: featureColumns,
            classNames: classes.map { count in (0..<count).map { String($0) } }, classCount: classes)
    }

    /// lstm, gru: the texts as Keras-style token ids.
    private static func text(_ spec: String, options: TrainingOptions, recorded: CheckpointConfiguration?) throws -> TrainingData {
        let texts = try TextSource.resolve(
            spec, textColumn: options.textColumn ?? recorded?.textColumn, labelColumn: options.labelColumn ?? recorded?.labelColumn).load()
        let tokenizer = try recorded?.tokenizer ?? Tokenizer(fitting: texts.train.texts, vocabularySize: options.vocabularySize)
        let split = try texts.encoded(tokenizer: tokenizer, maxLength: recorded?.maxLength ?? options.maxLength)
        let task: Task = texts.classNames.count == 2 ? .binaryClassification : .classification
        return TrainingData(split: split, task: task, tokenizer: tokenizer, classNames: texts.classNames,
                            classCount: texts.classNames.count)
    }

    /// bert-classifier: the texts as WordPiece ids of the pretrained directory's tokenizer (or the
    /// resumed checkpoint's vocabulary), with, when not resuming, the pretrained encoder and its new head.
    private static func wordPieces(
        _ spec: String, options: TrainingOptions, recorded: CheckpointConfiguration?, device: Device, generator: RandomGenerator
    ) throws -> TrainingData {
        let textColumn = options.textColumn ?? recorded?.textColumn
        let lowered = spec.lowercased()
        let isFile = [".csv", ".tsv", ".csv.gz", ".tsv.gz"].contains { lowered.hasSuffix($0) }
        guard isFile || isText(spec, textColumn: textColumn) else {
            throw TrainingError.invalidOption("--model bert-classifier reads text, and --data \(spec) is not text: give a corpus (\(TextCorpus.knownNames)) or a CSV/TSV file of labelled texts")
        }
        let texts = try TextSource.resolve(spec, textColumn: textColumn, labelColumn: options.labelColumn ?? recorded?.labelColumn).load()
        let task: Task = texts.classNames.count == 2 ? .binaryClassification : .classification
        let outputs = task.outputs(classes: texts.classNames.count)

        let settings: BertClassifierSettings, tokenizer: WordPieceTokenizer, maxLength: Int
        var pretrained: PretrainedClassifier?
        if let recorded {
            guard let recordedSettings = recorded.bert, let recordedLength = recorded.maxLength else {
                throw TrainingError.invalidOption("the checkpoint to resume names bert-classifier but records no BERT architecture, vocabulary or maximum length")
            }
            (settings, tokenizer, maxLength) = (recordedSettings, try recordedSettings.tokenizer(), recordedLength)
        } else {
            let directory = try PretrainedModelDirectory(path: options.initDirectory ?? PretrainedModelDirectory.defaultPath)
            let positions = try directory.loadConfig().maxPositionEmbeddings
            guard options.maxLength >= 2, options.maxLength <= positions else {
                throw TrainingError.invalidOption("--max-len \(options.maxLength) must be between 2 (room for [CLS] and [SEP]) and the \(positions) positions of \(directory.configURL.path)")
            }
            let loaded = try PretrainedClassifier(directory: directory, outputs: outputs, device: device, generator: generator)
            (settings, tokenizer, maxLength, pretrained) = (loaded.settings, loaded.tokenizer, options.maxLength, loaded)
        }
        var data = TrainingData(split: try texts.wordPieceEncoded(tokenizer: tokenizer, maxLength: maxLength), task: task,
                                classNames: texts.classNames, classCount: texts.classNames.count)
        data.wordPieces = tokenizer
        data.bert = settings
        data.pretrained = pretrained
        return data
    }
}
