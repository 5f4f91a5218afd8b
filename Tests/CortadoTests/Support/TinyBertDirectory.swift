import CortadoTraining
import Foundation

/// A tiny, randomly initialised BERT in Hugging Face's directory format (config.json, vocab.txt,
/// model.safetensors), for fast fine-tuning tests.
enum TinyBertDirectory {
    /// The words of the vocabulary besides the special tokens.
    static let words = [
        "the", "film", "plot", "actors", "was", "a", "story", "quite", "really", "music", ",", "great", "lovely",
        "charming", "superb", "awful", "boring", "dull", "clumsy", "alpha", "beta", "gamma", "word", "other",
        "an", "utterly", "##s", "##ly",
    ]

    /// The architecture written: hidden 16, 2 layers of 2 heads, intermediate 32, 32 positions.
    static let architecture = BertArchitecture(
        vocabularySize: 5 + words.count, hiddenSize: 16, layerCount: 2, attentionHeads: 2, intermediateSize: 32,
        maxPositions: 32, typeVocabularySize: 2, layerNormEpsilon: 1e-12)

    /// Writes the model into `directory` (a subdirectory `name`); returns its path. Leaves out `omitting`.
    @discardableResult
    static func write(in directory: TemporaryDirectory, name: String = "tiny-bert", omitting: String? = nil) throws -> String {
        let path = directory.file(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let url = URL(fileURLWithPath: path, isDirectory: true)
        let a = architecture
        let config: [String: Any] = [
            "architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu", "hidden_size": a.hiddenSize,
            "num_hidden_layers": a.layerCount, "num_attention_heads": a.attentionHeads,
            "intermediate_size": a.intermediateSize, "vocab_size": a.vocabularySize,
            "max_position_embeddings": a.maxPositions, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
            "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02, "pad_token_id": 0,
        ]
        if omitting != "config.json" {
            try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
                .write(to: url.appendingPathComponent("config.json"))
        }
        if omitting != "vocab.txt" {
            let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words
            try (vocabulary.joined(separator: "\n") + "\n").write(
                to: url.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        }
        if omitting != "model.safetensors" {
            let model = try BertModel(architecture, initializerRange: 0.02, device: .cpu, generator: RandomGenerator(seed: 7))
            try SafeTensors.write(model.stateTensors(), to: url.appendingPathComponent("model.safetensors"))
        }
        return path
    }
}
