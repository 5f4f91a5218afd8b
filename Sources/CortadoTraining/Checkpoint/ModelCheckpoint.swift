import Foundation

/// Everything besides the tensors that a checkpoint records to rebuild, resume and use a model.
public struct CheckpointConfiguration: Codable, Sendable, Equatable {
    /// The built-in model.
    public var model: BuiltinModel
    /// Classification or regression.
    public var task: Task
    /// The shape of one input sample.
    public var sampleShape: [Int]
    /// Model outputs (classes, or 1 for regression).
    public var outputs: Int
    /// The data the model was trained on (`fashion-mnist`, a directory or a CSV file).
    public var data: String
    /// The CSV target column, for tabular data.
    public var targetColumn: String?
    /// The CSV feature columns in order, for tabular data.
    public var featureColumns: [String]?
    /// The feature standardisation fitted on the training split (tabular data).
    public var standardization: FeatureStandardization?
    /// The optimizer's name (`adam`, `sgd`, …).
    public var optimizer: String
    /// The optimizer's hyperparameters other than the learning rate.
    public var optimizerHyperparameters: [String: Float]
    /// The learning-rate schedule.
    public var schedule: LearningRateSchedule
    /// Optimizer steps taken.
    public var steps: Int
    /// Epochs completed.
    public var epochsCompleted: Int
    /// Batch size used.
    public var batchSize: Int
    /// The seed of initialisation and shuffling.
    public var seed: UInt64
    /// Text models: the tokenizer fitted on the training texts (its vocabulary).
    public var tokenizer: Tokenizer?
    /// Text models: the length token sequences are padded or truncated to.
    public var maxLength: Int?
    /// Classification: the class names, in label order.
    public var classNames: [String]?
    /// Text files: the text and label columns.
    public var textColumn: String?, labelColumn: String?
    /// The fine-tuned BERT classifier: its architecture and WordPiece vocabulary.
    public var bert: BertClassifierSettings?
    /// For a checkpoint written when a run was interrupted: the optimizer steps taken in the
    /// epoch after ``epochsCompleted`` (its batches, in the loader's order for that epoch), so a
    /// resumed run continues with the next batch; `nil` or 0 after a complete epoch.
    public var stepsIntoEpoch: Int?
    /// The positions the run had drawn from its random stream (dropout masks; the stream of
    /// ``seed``), so that a resumed run draws the masks the uninterrupted one would have.
    public var randomCounter: UInt64?
    /// An `fp16` run's loss scaler, so that a resumed run scales (and skips) as the uninterrupted one.
    public var lossScaler: LossScaler.State?
    /// The hidden widths of a built-in model whose units were pruned (`cortado prune
    /// --structured`), in the order of ``BuiltinModel/defaultWidths``; `nil` for the default ones.
    public var widths: [Int]?

    /// Whether the model reads text (with the Keras-style ``tokenizer`` or BERT's WordPiece one).
    public var readsText: Bool { tokenizer != nil || bert != nil }

    /// Creates a configuration.
    public init(
        model: BuiltinModel, task: Task, sampleShape: [Int], outputs: Int, data: String, targetColumn: String?,
        featureColumns: [String]?, standardization: FeatureStandardization?, optimizer: String,
        optimizerHyperparameters: [String: Float], schedule: LearningRateSchedule, steps: Int, epochsCompleted: Int,
        batchSize: Int, seed: UInt64, tokenizer: Tokenizer? = nil, maxLength: Int? = nil, classNames: [String]? = nil,
        textColumn: String? = nil, labelColumn: String? = nil, bert: BertClassifierSettings? = nil
    ) {
        self.bert = bert
        self.tokenizer = tokenizer
        self.maxLength = maxLength
        self.classNames = classNames
        self.textColumn = textColumn
        self.labelColumn = labelColumn
        self.model = model
        self.task = task
        self.sampleShape = sampleShape
        self.outputs = outputs
        self.data = data
        self.targetColumn = targetColumn
        self.featureColumns = featureColumns
        self.standardization = standardization
        self.optimizer = optimizer
        self.optimizerHyperparameters = optimizerHyperparameters
        self.schedule = schedule
        self.steps = steps
        self.epochsCompleted = epochsCompleted
        self.batchSize = batchSize
        self.seed = seed
    }
}

/// A trained model on disk: a safetensors file whose tensors are the model's parameters
/// (`model.<name>`) and the optimizer's state (`optimizer.<slot>.<name>`), and whose metadata holds
/// the ``CheckpointConfiguration`` as JSON under `cortado.configuration`, so Python's safetensors
/// or numpy reads the weights directly.
public struct ModelCheckpoint {
    /// The metadata key of the configuration.
    public static let configurationKey = "cortado.configuration"
    /// The metadata key of the format marker.
    public static let formatKey = "format"
    /// The format marker's value.
    public static let format = "cortado-checkpoint-1"

    /// The configuration read from the file.
    public let configuration: CheckpointConfiguration
    /// The file.
    public let file: SafeTensorsFile

    /// Writes `model` and `optimizer` with `configuration` to `url` (temporary file, then rename).
    /// - Parameter weightType: the type of the model's floating-point weights in the file. `float32`
    ///   (the default) keeps the master weights and the optimizer state, so training can resume;
    ///   `bfloat16` or `float16` writes half-size weights for inference, without optimizer state.
    /// - Parameter metadata: further metadata entries (a pruned checkpoint's record).
    public static func save(
        model: any Module, optimizer: (any Optimizer)?, configuration: CheckpointConfiguration, to url: URL,
        weightType: DType = .float32, metadata: [String: String] = [:]
    ) throws {
        guard weightType.isFloatingPoint else {
            throw CheckpointError(url, "cannot write weights as \(weightType): choose float32, bfloat16 or float16")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(configuration), as: UTF8.self)
        var tensors = model.stateTensors().map { name, tensor in
            // Converted only when the writer reaches the tensor: one half copy at a time.
            let dtype = tensor.dtype.isFloatingPoint ? weightType : tensor.dtype
            return PendingSafeTensor(name: "model.\(name)", dtype: SafeTensorsDType(dtype), shape: tensor.shape) {
                try tensor.to(dtype: dtype).storedBytes()
            }
        }
        if weightType == .float32 {
            tensors += optimizer?.stateTensors().map { PendingSafeTensor(name: "optimizer.\($0.name)", tensor: $0.tensor) } ?? []
        }
        try SafeTensors.write(
            pending: tensors, metadata: metadata.merging([formatKey: format, configurationKey: json]) { $1 }, to: url)
    }

    /// The type of the model's floating-point weights in the file: `float32` for a checkpoint that
    /// training can resume from, `bfloat16` or `float16` for one written for inference
    /// (`--save-dtype`).
    public var weightType: DType {
        file.tensors.first { $0.name.hasPrefix("model.") && $0.dtype.cortadoDType?.isFloatingPoint == true }?
            .dtype.cortadoDType ?? .float32
    }

    /// Reads and validates the file and its configuration.
    /// - Throws: ``CheckpointError`` naming the file when it is not a Cortado checkpoint or is damaged.
    public init(contentsOf url: URL) throws {
        let file = try SafeTensors.read(url)
        guard file.metadata[Self.formatKey] == Self.format, let json = file.metadata[Self.configurationKey] else {
            throw CheckpointError(url, "not a Cortado checkpoint (its safetensors metadata has no '\(Self.formatKey): \(Self.format)' entry)")
        }
        do {
            configuration = try JSONDecoder().decode(CheckpointConfiguration.self, from: Data(json.utf8))
        } catch {
            throw CheckpointError(url, "the checkpoint's configuration cannot be read: \(DecodingProblem.describe(error))")
        }
        try configuration.validate(url: url)
        self.file = file
    }

    /// Builds the recorded model on `device` and loads its parameters: a ``Sequential`` for the
    /// built-in models, a ``BertClassifier`` for `bert-classifier`. Its dropout layers draw from
    /// `generator` (the global one when `nil`).
    /// - Throws: ``CheckpointError`` naming the file and the tensor that is missing or misshaped.
    public func makeTrainedModel(device: Device, generator: RandomGenerator? = nil) throws -> any Module {
        let model: any Module
        do {
            model = try Self.makeModel(for: configuration, device: device, generator: generator)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError(file.url, configuration.model.readsWordPieces
                                  ? "its BERT architecture cannot be built: \(error)" : "its model cannot be built: \(error)")
        }
        try load(into: model, device: device)
        return model
    }

    /// The model `configuration` describes, built on `device` with initial (not trained) weights:
    /// a ``Sequential`` for the built-in models (of the recorded widths), a ``BertClassifier`` of
    /// the recorded architecture for `bert-classifier`; its dropout layers draw from `generator`
    /// (the global one when `nil`).
    public static func makeModel(
        for configuration: CheckpointConfiguration, device: Device, generator: RandomGenerator? = nil
    ) throws -> any Module {
        guard configuration.model.readsWordPieces else {
            return try configuration.model.make(
                sampleShape: configuration.sampleShape, outputs: configuration.outputs,
                vocabulary: configuration.tokenizer?.vocabularySize, device: device, generator: generator,
                widths: configuration.widths)
        }
        guard let bert = configuration.bert, configuration.maxLength != nil else {
            throw CortadoError.invalidArgument("the configuration names a bert-classifier model but records no BERT architecture, vocabulary or maximum length")
        }
        try bert.architecture.validate()
        return try bert.makeModel(outputs: configuration.outputs, device: device, generator: generator)
    }

    /// Builds the recorded built-in model on `device` and loads its parameters; its dropout layers
    /// draw from `generator` (the global one when `nil`).
    /// - Throws: ``CheckpointError`` naming the file and the tensor that is missing or misshaped.
    public func makeModel(device: Device, generator: RandomGenerator? = nil) throws -> Sequential {
        let model = try configuration.model.make(
            sampleShape: configuration.sampleShape, outputs: configuration.outputs,
            vocabulary: configuration.tokenizer?.vocabularySize, device: device, generator: generator,
            widths: configuration.widths)
        try load(into: model, device: device)
        return model
    }

    /// Replaces `model`'s parameters with the file's `model.<name>` tensors.
    private func load(into model: any Module, device: Device) throws {
        do {
            if let record = try quantization() { return try loadQuantized(into: model, record: record, device: device) }
            var tensors: [String: Tensor] = [:]
            for (name, parameter) in model.namedParameters() {
                try file.checkFinite(file.requireInfo("model.\(name)"))
                tensors[name] = try file.tensor("model.\(name)", shape: parameter.value.shape, dtype: .float32, device: device)
            }
            try model.loadState(tensors)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError(file.url, "does not fit the \(configuration.model.rawValue) model it names: \(error)")
        }
    }

    /// Restores `optimizer`'s state and step count (the optimizer must match the recorded one).
    public func restore(_ optimizer: any Optimizer, device: Device) throws {
        if let record = try quantization() {
            throw CheckpointError(file.url, "is an int8 checkpoint (\(record.scheme)) written for inference, without optimizer state; "
                                  + "resume from the float32 checkpoint it came from")
        }
        guard weightType == .float32 else {
            throw CheckpointError(file.url, "holds \(weightType) weights written for inference (--save-dtype) and no optimizer state; "
                                  + "resume from a float32 checkpoint")
        }
        guard optimizer.name == configuration.optimizer else {
            throw CheckpointError(file.url, "was trained with \(configuration.optimizer); resume with --optimizer \(configuration.optimizer)")
        }
        var tensors: [String: Tensor] = [:]
        if configuration.steps == 0 { return }  // saved before the first step: no state yet
        for info in file.tensors where info.name.hasPrefix("optimizer.") {
            try file.checkFinite(info)
            tensors[String(info.name.dropFirst("optimizer.".count))] = try file.tensor(info.name, dtype: .float32, device: device)
        }
        do {
            try optimizer.loadState(tensors, stepCount: configuration.steps)
        } catch {
            throw CheckpointError(file.url, "optimizer state: \(error)")
        }
    }
}
