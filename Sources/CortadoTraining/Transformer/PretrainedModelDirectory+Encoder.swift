import Foundation

extension BertConfig {
    /// The encoder sizes and options this configuration describes (post-LayerNorm, as BERT).
    public var architecture: BertArchitecture {
        BertArchitecture(
            vocabularySize: vocabularySize, hiddenSize: hiddenSize, layerCount: layerCount,
            attentionHeads: attentionHeads, intermediateSize: intermediateSize, maxPositions: maxPositionEmbeddings,
            typeVocabularySize: typeVocabularySize, layerNormEpsilon: layerNormEpsilon, hiddenDropout: hiddenDropout,
            attentionDropout: attentionDropout, preLayerNorm: false)
    }
}

extension PretrainedModelDirectory {
    /// The encoder of this directory with its pretrained weights, on `device` (the default device when `nil`).
    ///
    /// Every parameter is read by its Hugging Face name (with or without `bert.`); tensors the
    /// encoder does not use, such as the pooler, are ignored. A directory that `cortado quantize
    /// --model` wrote loads with its int8 layers computing in int8.
    /// - Throws: ``DataError`` naming `config.json` or `model.safetensors` and the setting or tensor at fault.
    public func loadEncoder(device: Device? = nil) throws -> BertModel {
        let config = try loadConfig()
        let weights = try loadWeights()
        let model = try BertModel(config.architecture, initializerRange: 0, device: device)
        if let record = try quantization() {
            // Written by `cortado quantize --model`: int8 layers compute in int8.
            try ModelCheckpoint.loadQuantized(into: model, record: record, file: weights.file, device: device) {
                weights.storedName(of: $0) ?? $0
            }
            model.eval()
            return model
        }
        var tensors: [String: Tensor] = [:]
        for (name, parameter) in model.namedParameters() {
            let shape = parameter.value.shape
            tensors[name] = try Tensor(weights.tensor(name, shape: shape), shape: shape, device: device)
        }
        try model.loadState(tensors)
        model.eval()
        return model
    }
}
