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
    /// Linear and convolution layers kept in float (asked for, or too small to gain).
    public var floatLayers: [String]

    /// A record of each list.
    public init(scheme: QuantizationScheme, int8Layers: [String], int8StoredWeights: [String], floatLayers: [String]) {
        self.scheme = scheme
        self.int8Layers = int8Layers
        self.int8StoredWeights = int8StoredWeights
        self.floatLayers = floatLayers
    }

    private enum CodingKeys: String, CodingKey {
        case scheme, int8Layers = "int8_layers", int8StoredWeights = "int8_stored_weights", floatLayers = "float_layers"
    }
}

extension ModelCheckpoint {
    /// The metadata key of the ``QuantizationRecord`` (JSON) of an int8 checkpoint.
    public static let quantizationKey = "cortado.quantization"
    /// The metadata key of an int8 checkpoint's scheme (`per-channel` or `q8_0`).
    public static let schemeKey = "quantization.scheme"
    /// The suffix of the name of the float32 scales of an int8 tensor (`model.0.weight.scales`).
    public static let scalesSuffix = ".scales"
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
    /// configuration and the ``QuantizationRecord`` in the metadata; no optimizer state.
    /// - Returns: the record written.
    /// - Throws: ``CheckpointError`` when this checkpoint is already int8 or `url` is the file
    ///   itself (nothing is written then).
    @discardableResult
    public func writeQuantized(
        to url: URL, scheme: QuantizationScheme, keepingFloat: (String) -> Bool = { _ in false }, device: Device = .cpu
    ) throws -> QuantizationRecord {
        if let existing = try quantization() {
            throw CheckpointError(file.url, "is already an int8 checkpoint (scheme \(existing.scheme)); quantise the float32 checkpoint it came from")
        }
        guard url.standardizedFileURL.resolvingSymlinksInPath() != file.url.standardizedFileURL.resolvingSymlinksInPath() else {
            throw CheckpointError(url, "is the checkpoint being quantised; choose another --out")
        }
        let model = try makeTrainedModel(device: device)
        let layers = model.quantizableLayers()
        let layerWeights = Dictionary(uniqueKeysWithValues: layers.map { ($0.name.isEmpty ? "weight" : "\($0.name).weight", $0.name) })
        var record = QuantizationRecord(scheme: scheme, int8Layers: [], int8StoredWeights: [], floatLayers: [])
        var tensors: [PendingSafeTensor] = []
        for (name, parameter) in model.namedParameters() {
            let value = parameter.value
            let layer = layerWeights[name]
            let quantize: Bool
            if let layer {
                quantize = !keepingFloat(layer)
                if quantize { record.int8Layers.append(layer) } else { record.floatLayers.append(layer) }
            } else {
                quantize = value.dtype.isFloatingPoint && value.rank >= 2 && value.count >= Self.smallestQuantizedWeight
                if quantize { record.int8StoredWeights.append(name) }
            }
            guard quantize else {
                let float = value.dtype.isFloatingPoint ? try value.to(dtype: .float32) : value
                tensors.append(PendingSafeTensor(name: "model.\(name)", tensor: float))
                continue
            }
            let rows = value.shape[0]
            let matrix = try QuantizedMatrix(quantizing: value.reshaped([rows, value.count / max(rows, 1)]), scheme: scheme)
            tensors.append(PendingSafeTensor(name: "model.\(name)", tensor: try matrix.values.reshaped(value.shape)))
            tensors.append(PendingSafeTensor(name: "model.\(name)\(Self.scalesSuffix)", tensor: matrix.scales))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let recordJSON = String(decoding: try encoder.encode(record), as: UTF8.self)
        var metadata = file.metadata
        metadata[Self.quantizationKey] = recordJSON
        metadata[Self.schemeKey] = scheme.rawValue
        try SafeTensors.write(pending: tensors, metadata: metadata, to: url)
        return record
    }

    /// Loads the parameters of an int8 checkpoint into `model`: int8 layers compute with their
    /// stored int8 weights (and keep the dequantised float weight), int8-stored weights are
    /// dequantised, the rest loads as float32.
    func loadQuantized(into model: any Module, record: QuantizationRecord, device: Device) throws {
        let int8Layers = Set(record.int8Layers)
        let layers = Dictionary(uniqueKeysWithValues: model.quantizableLayers().map { ($0.name, $0.layer) })
        var tensors: [String: Tensor] = [:]
        var assignments: [(any QuantizableLayer, QuantizedMatrix)] = []
        for (name, parameter) in model.namedParameters() {
            let shape = parameter.value.shape
            guard let entry = file.info("model.\(name)"), entry.dtype == .int8 else {
                tensors[name] = try file.tensor("model.\(name)", shape: shape, dtype: .float32, device: device)
                continue
            }
            let rows = shape.first ?? 1, columns = shape.dropFirst().reduce(1, *)
            let values = try file.tensor("model.\(name)", shape: shape, dtype: .int8, device: device)
            let scales = try file.tensor("model.\(name)\(Self.scalesSuffix)", shape: [rows, record.scheme.blocks(columns: columns)],
                                         dtype: .float32, device: device)
            let matrix = try QuantizedMatrix(values: values.reshaped([rows, columns]), scales: scales, scheme: record.scheme)
            tensors[name] = try matrix.dequantized().reshaped(shape)
            let layerName = name == "weight" ? "" : String(name.dropLast(".weight".count))
            if name.hasSuffix("weight"), int8Layers.contains(layerName), let layer = layers[layerName] {
                assignments.append((layer, matrix))
            }
        }
        try model.loadState(tensors)
        for (layer, matrix) in assignments { try layer.useQuantizedWeight(matrix) }
    }
}
