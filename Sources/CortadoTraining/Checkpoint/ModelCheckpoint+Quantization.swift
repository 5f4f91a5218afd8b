import Cortado
import CortadoNN
import Foundation

/// What an int8 checkpoint records about its quantisation, as JSON in the metadata entry
/// ``ModelCheckpoint/quantizationKey`` (the scheme also plainly under ``ModelCheckpoint/schemeKey``).
public struct QuantizationRecord: Codable, Sendable, Equatable {
    /// How the weights are quantised.
    public var scheme: QuantizationScheme
    /// Layers (dotted names) that compute in int8: ``Linear`` and ``Conv2D``.
    public var int8Layers: [String]
    /// Other weights stored as int8 and computed in float32 once loaded (embedding tables,
    /// recurrent weights): the file is smaller, the arithmetic unchanged.
    public var int8StoredWeights: [String]
    /// Linear and convolution layers kept in float (asked for, or too small to gain:
    /// ``QuantizableLayer/gainsFromInt8``).
    public var floatLayers: [String]
    /// With static activation scales (`<layer>.weight.input_scales`): the calibration batches they
    /// came from; `nil`: activations are quantised dynamically.
    public var calibrationBatches: Int?
    /// With SmoothQuant's smoothing (`<layer>.weight.input_multipliers`): its migration strength;
    /// `nil`: none.
    public var smoothingStrength: Float?
    /// With smoothing: the calibration texts its activation maxima came from.
    public var smoothingTexts: Int?
    /// The int8 layers whose scheme is not ``scheme`` (as the `q8_0` feed-forward outputs of an
    /// encoder quantised with ``EncoderQuantization/measured``); `nil` when every layer has ``scheme``.
    public var layerSchemes: [String: QuantizationScheme]?

    /// The scheme of the int8 layer `name`.
    public func scheme(ofLayer name: String) -> QuantizationScheme { layerSchemes?[name] ?? scheme }

    /// Records that the int8 layer `name` has `layerScheme` (an entry of ``layerSchemes`` when it is not ``scheme``).
    mutating func record(_ layerScheme: QuantizationScheme, ofLayer name: String) {
        guard layerScheme != scheme else { return }
        layerSchemes = (layerSchemes ?? [:]).merging([name: layerScheme]) { $1 }
    }

    /// A record of each list.
    public init(
        scheme: QuantizationScheme, int8Layers: [String], int8StoredWeights: [String], floatLayers: [String],
        calibrationBatches: Int? = nil, smoothingStrength: Float? = nil, smoothingTexts: Int? = nil
    ) {
        self.scheme = scheme
        self.int8Layers = int8Layers
        self.int8StoredWeights = int8StoredWeights
        self.floatLayers = floatLayers
        self.calibrationBatches = calibrationBatches
        self.smoothingStrength = smoothingStrength
        self.smoothingTexts = smoothingTexts
    }

    private enum CodingKeys: String, CodingKey {
        case scheme, int8Layers = "int8_layers", int8StoredWeights = "int8_stored_weights", floatLayers = "float_layers"
        case calibrationBatches = "calibration_batches", smoothingStrength = "smoothing_strength", smoothingTexts = "smoothing_texts"
        case layerSchemes = "layer_schemes"
    }
}

extension ModelCheckpoint {
    /// The metadata key of the ``QuantizationRecord`` (JSON) of an int8 checkpoint.
    public static let quantizationKey = "cortado.quantization"
    /// The metadata key of an int8 checkpoint's scheme (`per-channel` or `q8_0`).
    public static let schemeKey = "quantization.scheme"
    /// The suffix of the name of the float32 scales of an int8 tensor (`model.0.weight.scales`).
    public static let scalesSuffix = ".scales"
    /// The suffix of the name of an int8 layer's static activation scales (`model.0.weight.input_scales`).
    public static let inputScalesSuffix = ".input_scales"
    /// The suffix of the name of an int8 layer's SmoothQuant column multipliers
    /// (`encoder.layer.0.intermediate.dense.weight.input_multipliers`, ``QuantizedMatrix/inputMultipliers``).
    public static let inputMultipliersSuffix = ".input_multipliers"
    /// Float weights smaller than this many values stay float32 in an int8 checkpoint (biases,
    /// normalisation weights and small matrices gain nothing).
    public static let smallestQuantizedWeight = 256

    /// The quantisation of an int8 checkpoint, `nil` for a float one.
    /// - Throws: ``CheckpointError`` when the record is present but unreadable.
    public func quantization() throws -> QuantizationRecord? {
        guard let json = file.metadata[Self.quantizationKey] else { return nil }
        do {
            return try JSONDecoder().decode(QuantizationRecord.self, from: Data(json.utf8))
        } catch {
            throw CheckpointError(file.url, "metadata '\(Self.quantizationKey)' cannot be read: \(error)")
        }
    }

    /// Writes this (float) checkpoint's model as an int8 checkpoint to `url`: the weights of every
    /// ``Linear`` and ``Conv2D`` (except those `keepingFloat` names) as `I8` with `F32` scales
    /// (`<name>.scales`), other weight matrices of at least ``smallestQuantizedWeight`` values
    /// (embeddings, recurrent weights) stored the same way, everything else `F32`; the
    /// configuration and the ``QuantizationRecord`` in the metadata; no optimizer state. With
    /// `calibrationBatches`, the float model first runs that many batches of its training data
    /// (``calibrationScales(of:batches:scheme:device:)``) and the int8 layers get static activation
    /// scales (`<name>.input_scales`).
    /// - Returns: the record written.
    /// - Throws: ``CheckpointError`` when this checkpoint is already int8 or `url` is the file
    ///   itself (nothing is written then).
    @discardableResult
    public func writeQuantized(
        to url: URL, scheme: QuantizationScheme, keepingFloat: (String) -> Bool = { _ in false },
        calibrationBatches: Int? = nil, device: Device = .cpu
    ) throws -> QuantizationRecord {
        if let existing = try quantization() {
            throw CheckpointError(file.url, "is already an int8 checkpoint (scheme \(existing.scheme)); quantise the float32 checkpoint it came from")
        }
        guard url.standardizedFileURL.resolvingSymlinksInPath() != file.url.standardizedFileURL.resolvingSymlinksInPath() else {
            throw CheckpointError(url, "is the checkpoint being quantised; choose another --out")
        }
        let model = try makeTrainedModel(device: device)
        let inputScales = try calibrationBatches.map { try calibrationScales(of: model, batches: $0, scheme: scheme, device: device) }
        var (tensors, record) = try Self.quantizedTensors(
            of: model, prefix: "model.", scheme: scheme, keepingFloat: keepingFloat, inputScales: inputScales)
        record.calibrationBatches = calibrationBatches
        try SafeTensors.write(pending: tensors, metadata: try Self.quantizationMetadata(record, base: file.metadata), to: url)
        return record
    }

    /// `base` with the record of an int8 file: ``quantizationKey`` (JSON) and ``schemeKey``.
    static func quantizationMetadata(_ record: QuantizationRecord, base: [String: String]) throws -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata = base
        metadata[quantizationKey] = String(decoding: try encoder.encode(record), as: UTF8.self)
        metadata[schemeKey] = record.scheme.rawValue
        return metadata
    }

    /// The tensors of an int8 file for `model`'s parameters (named `prefix` + dotted name): the
    /// weights of its Linear and Conv2D layers (except those `keepingFloat` names) and its other
    /// weight matrices of at least ``smallestQuantizedWeight`` values as int8 with scales, the rest
    /// float32; and the record of which is which. Layers that `smoothing` names (their calibration
    /// maxima per input column) are smoothed with `strength` first and keep their multipliers;
    /// `override` gives some int8 layers their own scheme (``QuantizationRecord/layerSchemes``).
    static func quantizedTensors(
        of model: any Module, prefix: String, scheme: QuantizationScheme, keepingFloat: (String) -> Bool,
        override: (String) -> QuantizationScheme? = { _ in nil },
        inputScales: [String: Tensor]? = nil, smoothing: [String: Tensor] = [:], strength: Float = 0.5
    ) throws -> ([PendingSafeTensor], QuantizationRecord) {
        let layers = model.quantizableLayers()
        let layerWeights = Dictionary(uniqueKeysWithValues: layers.map { ($0.name.isEmpty ? "weight" : "\($0.name).weight", $0.name) })
        let gains = Dictionary(uniqueKeysWithValues: layers.map { ($0.name, $0.layer.gainsFromInt8) })
        var record = QuantizationRecord(scheme: scheme, int8Layers: [], int8StoredWeights: [], floatLayers: [])
        var tensors: [PendingSafeTensor] = []
        for (name, parameter) in model.namedParameters() {
            let value = parameter.value
            let quantize: Bool
            if let layer = layerWeights[name] {
                quantize = !keepingFloat(layer) && gains[layer] == true
                if quantize { record.int8Layers.append(layer) } else { record.floatLayers.append(layer) }
            } else {
                quantize = value.dtype.isFloatingPoint && value.rank >= 2 && value.count >= smallestQuantizedWeight
                if quantize { record.int8StoredWeights.append(name) }
            }
            guard quantize else {
                let float = value.dtype.isFloatingPoint ? try value.to(dtype: .float32) : value
                tensors.append(PendingSafeTensor(name: prefix + name, tensor: float))
                continue
            }
            let rows = value.shape[0]
            let flat = try value.reshaped([rows, value.count / max(rows, 1)])
            var chosen = scheme
            if let layer = layerWeights[name], let other = override(layer) {
                chosen = other
                record.record(other, ofLayer: layer)
            }
            let maxima = layerWeights[name].flatMap { smoothing[$0] }
            let matrix = try maxima.map { try QuantizedMatrix(quantizing: flat, scheme: chosen, smoothing: $0, strength: strength) }
                ?? QuantizedMatrix(quantizing: flat, scheme: chosen)
            tensors.append(PendingSafeTensor(name: prefix + name, tensor: try matrix.values.reshaped(value.shape)))
            tensors.append(PendingSafeTensor(name: prefix + name + scalesSuffix, tensor: matrix.scales))
            if let multipliers = matrix.inputMultipliers {
                tensors.append(PendingSafeTensor(name: prefix + name + inputMultipliersSuffix, tensor: multipliers))
            }
            if let layer = layerWeights[name], let scales = inputScales?[layer] {
                tensors.append(PendingSafeTensor(name: prefix + name + inputScalesSuffix, tensor: scales))
            }
        }
        return (tensors, record)
    }

    /// Loads the parameters of an int8 checkpoint into `model`.
    func loadQuantized(into model: any Module, record: QuantizationRecord, device: Device) throws {
        try Self.loadQuantized(into: model, record: record, file: file, device: device) { "model.\($0)" }
    }

    /// Loads the parameters of an int8 file into `model`: int8 layers compute with their stored
    /// int8 weights (and keep the dequantised float weight), int8-stored weights are dequantised,
    /// the rest loads as float32. `storedName` maps a parameter's dotted name to the file's.
    static func loadQuantized(
        into model: any Module, record: QuantizationRecord, file: SafeTensorsFile, device: Device?,
        storedName: (String) -> String
    ) throws {
        let int8Layers = Set(record.int8Layers)
        if let stray = record.layerSchemes?.keys.sorted().first(where: { !int8Layers.contains($0) }) {
            throw CheckpointError(file.url, "metadata '\(quantizationKey)': layer_schemes names '\(stray)', which is not one of its int8_layers")
        }
        let layers = Dictionary(uniqueKeysWithValues: model.quantizableLayers().map { ($0.name, $0.layer) })
        var tensors: [String: Tensor] = [:]
        var assignments: [(any QuantizableLayer, QuantizedMatrix)] = []
        for (name, parameter) in model.namedParameters() {
            let shape = parameter.value.shape
            let stored = storedName(name)
            guard let entry = file.info(stored), entry.dtype == .int8 else {
                tensors[name] = try file.tensor(stored, shape: shape, dtype: .float32, device: device)
                continue
            }
            let rows = shape.first ?? 1, columns = shape.dropFirst().reduce(1, *)
            let layerName = name == "weight" ? "" : String(name.dropLast(".weight".count))
            let scheme = name.hasSuffix("weight") ? record.scheme(ofLayer: layerName) : record.scheme
            let values = try file.tensor(stored, shape: shape, dtype: .int8, device: device)
            let scales = try file.tensor(stored + scalesSuffix, shape: [rows, scheme.blocks(columns: columns)],
                                         dtype: .float32, device: device)
            var matrix = try QuantizedMatrix(values: values.reshaped([rows, columns]), scales: scales, scheme: scheme)
            if name.hasSuffix("weight"), int8Layers.contains(layerName), let layer = layers[layerName] {
                let inputScales = try file.info(stored + inputScalesSuffix).map { _ in
                    try file.checkFinite(file.requireInfo(stored + inputScalesSuffix))
                    return try file.tensor(stored + inputScalesSuffix, shape: [scheme.blocks(columns: columns)],
                                           dtype: .float32, device: device)
                }
                let multipliers = try file.info(stored + inputMultipliersSuffix).map { _ in
                    try file.checkFinite(file.requireInfo(stored + inputMultipliersSuffix))
                    return try file.tensor(stored + inputMultipliersSuffix, shape: [columns], dtype: .float32, device: device)
                }
                do {
                    matrix = try matrix.withInputScales(inputScales)
                } catch {
                    throw CheckpointError(file.url, "tensor '\(stored + inputScalesSuffix)': \(error)")
                }
                do {
                    matrix = try matrix.withInputMultipliers(multipliers)
                } catch {
                    throw CheckpointError(file.url, "tensor '\(stored + inputMultipliersSuffix)': \(error)")
                }
                assignments.append((layer, matrix))
            }
            // With multipliers, the float weight before smoothing.
            tensors[name] = try matrix.dequantized().reshaped(shape)
        }
        try model.loadState(tensors)
        for (layer, matrix) in assignments { try layer.useQuantizedWeight(matrix) }
    }
}

extension ModelCheckpoint {
    /// Static activation scales for `model` (this checkpoint's float model): its forward passes over
    /// the first `batches` batches of the training data it records (shuffled with its seed, at its
    /// batch size; ``Module/calibrateInputScales(_:running:)``), in evaluation mode.
    /// - Throws: ``TrainingError`` when `batches` is not positive, ``DataError`` when the data cannot be
    ///   read, ``CortadoError`` when an input is not finite.
    public func calibrationScales(of model: any Module, batches: Int, scheme: QuantizationScheme, device: Device) throws -> [String: Tensor] {
        guard batches >= 1 else {
            throw TrainingError.invalidOption("--calibrate must be a positive number of batches, not \(batches)")
        }
        let recorded = configuration
        let data = try TrainingData.load(
            recorded.data, model: recorded.model, options: TrainingOptions(), recorded: recorded, device: device,
            generator: RandomGenerator(seed: recorded.seed))
        let loader = try BatchLoader(dataset: data.split.train, batchSize: recorded.batchSize, shuffle: true, seed: recorded.seed)
        let optimizer = try SGD(model.trainableParameters(), learningRate: 1)  // unused: forward passes only
        let trainer = Trainer(model: model, optimizer: optimizer, schedule: LearningRateSchedule(base: 1), task: recorded.task,
                              device: device, readsTokens: recorded.model.readsTokens,
                              paddingId: try recorded.bert?.tokenizer().paddingId)
        model.eval()
        return try model.calibrateInputScales(scheme) {
            try withNoGrad {
                for batch in loader.batches(epoch: 0).prefix(batches) { _ = try trainer.loss(on: batch) }
            }
        }
    }
}
