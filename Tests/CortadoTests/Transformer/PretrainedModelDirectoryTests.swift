import CortadoTraining
import Foundation
import Testing

@Suite("Transformer: Hugging Face model directories")
struct PretrainedModelDirectoryTests {
    /// all-MiniLM-L6-v2's config.json, with `changes` applied to its keys (nil removes one).
    static func configJSON(_ changes: [String: Any?] = [:]) throws -> String {
        var object: [String: Any] = [
            "architectures": ["BertModel"], "hidden_act": "gelu", "hidden_size": 384, "intermediate_size": 1536,
            "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 12,
            "num_hidden_layers": 6, "pad_token_id": 0, "position_embedding_type": "absolute", "type_vocab_size": 2,
            "vocab_size": 30522, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        ]
        for (key, value) in changes { object[key] = value ?? nil }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// A model directory with a config, a small weights file and a vocabulary, minus `omitting`.
    static func makeDirectory(omitting: String? = nil, config: String? = nil) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        if omitting != "config.json" { try directory.write("config.json", text: try config ?? configJSON()) }
        if omitting != "model.safetensors" {
            try SafeTensors.write([
                try SafeTensor(name: "bert.embeddings.LayerNorm.weight", values: [1, 2, 3, 4], shape: [4]),
                try SafeTensor(name: "bert.encoder.layer.0.attention.self.query.weight", values: (0..<6).map(Float.init), shape: [2, 3]),
                try SafeTensor(name: "pooler.dense.bias", values: [0.5, -0.5], shape: [2]),
                try SafeTensor(name: "embeddings.position_ids", indices: [0, 1, 2], shape: [1, 3]),
            ], to: directory.fileURL("model.safetensors"))
        }
        if omitting != "vocab.txt" { try directory.write("vocab.txt", text: "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n") }
        return directory
    }

    @Test("the real all-MiniLM-L6-v2: configuration, tokenizer, weights and maximum length")
    func realModel() throws {
        let directory = try RealModel.directory()
        let config = try directory.loadConfig()
        #expect(config.hiddenSize == 384 && config.layerCount == 6 && config.attentionHeads == 12 && config.headSize == 32)
        #expect(config.intermediateSize == 1536 && config.vocabularySize == 30522 && config.maxPositionEmbeddings == 512)
        #expect(config.typeVocabularySize == 2 && config.layerNormEpsilon == 1e-12 && config.hiddenActivation == "gelu")
        #expect(config.modelType == "bert" && config.architectures == ["BertModel"] && config.padTokenId == 0)
        #expect(try directory.defaultMaxLength(config: config) == 256)  // sentence_bert_config.json's max_seq_length
        #expect(try directory.loadTokenizer().vocabularySize == config.vocabularySize)

        let weights = try directory.loadWeights()
        #expect(weights.names.count == 104)  // 5 embeddings, position_ids, 6 × 16 in the blocks, 2 in the pooler
        #expect(weights.names.contains("encoder.layer.5.output.LayerNorm.bias"))
        let word = try weights.tensor("embeddings.word_embeddings.weight", shape: [30522, 384])
        #expect(word.count == 30522 * 384)
        // The same tensor asked for with the prefix of BertFor… checkpoints.
        let gamma = try weights.tensor("bert.embeddings.LayerNorm.weight", shape: [384])
        #expect(gamma == (try weights.tensor("embeddings.LayerNorm.weight", shape: [384])))
        for layer in 0..<config.layerCount {
            let prefix = "encoder.layer.\(layer)."
            #expect(weights.shape(of: prefix + "attention.self.query.weight") == [384, 384])
            #expect(weights.shape(of: prefix + "intermediate.dense.weight") == [1536, 384])  // [out, in]
            #expect(weights.shape(of: prefix + "output.dense.weight") == [384, 1536])
        }
        #expect(!weights.contains("encoder.layer.6.attention.self.query.weight"))
    }

    @Test("the default path is <data dir>/models/all-MiniLM-L6-v2")
    func defaultPath() {
        #expect(PretrainedModelDirectory.defaultPath(environment: ["CORTADO_DATA_DIR": "/data"]) == "/data/models/all-MiniLM-L6-v2")
        #expect(PretrainedModelDirectory.defaultPath(environment: ["HOME": "/home/u"])
            == "/home/u/.local/share/cortado/models/all-MiniLM-L6-v2")
    }

    @Test("tensors with or without the bert. prefix; a missing tensor or a wrong shape names the tensor")
    func tensors() throws {
        let directory = try Self.makeDirectory()
        let weights = try PretrainedModelDirectory(path: directory.path).loadWeights()
        #expect(weights.names == ["embeddings.LayerNorm.weight", "encoder.layer.0.attention.self.query.weight",
                                  "pooler.dense.bias", "embeddings.position_ids"])
        #expect(try weights.tensor("embeddings.LayerNorm.weight", shape: [4]) == [1, 2, 3, 4])
        #expect(try weights.tensor("bert.embeddings.LayerNorm.weight", shape: [4]) == [1, 2, 3, 4])
        #expect(try weights.tensor("bert.pooler.dense.bias", shape: [2]) == [0.5, -0.5])  // stored without the prefix
        #expect(weights.storedName(of: "encoder.layer.0.attention.self.query.weight") == "bert.encoder.layer.0.attention.self.query.weight")
        let file = directory.file("model.safetensors")
        expectDataError(containing: [file, "no tensor 'encoder.layer.0.output.dense.weight'", "'bert.encoder.layer.0.output.dense.weight'"]) {
            _ = try weights.tensor("encoder.layer.0.output.dense.weight", shape: [2, 3])
        }
        expectDataError(containing: [file, "'bert.encoder.layer.0.attention.self.query.weight'", "shape [2, 3]", "expected [3, 2]"]) {
            _ = try weights.tensor("encoder.layer.0.attention.self.query.weight", shape: [3, 2])
        }
        expectDataError(containing: [file, "'embeddings.position_ids'", "I32"]) {
            _ = try weights.tensor("embeddings.position_ids", shape: [1, 3])
        }
    }

    @Test("a missing directory or file is a notFound error naming it and saying how to get the model")
    func missingFiles() throws {
        let absent = FileManager.default.temporaryDirectory.appendingPathComponent("cortado-no-such-model-\(UUID())").path
        expectDataError(containing: [absent, "not found", "config.json", "tools/setup", "all-MiniLM-L6-v2"]) {
            _ = try PretrainedModelDirectory(path: absent)
        }
        for file in ["config.json", "model.safetensors", "vocab.txt"] {
            let directory = try Self.makeDirectory(omitting: file)
            expectDataError(containing: [directory.file(file), "not found", "tools/setup", "models/all-MiniLM-L6-v2"]) {
                _ = try PretrainedModelDirectory(path: directory.path)
            }
        }
        let torchOnly = try Self.makeDirectory(omitting: "model.safetensors")
        try torchOnly.write("pytorch_model.bin", text: "not read")
        expectDataError(containing: ["pytorch_model.bin", "safetensors"]) { _ = try PretrainedModelDirectory(path: torchOnly.path) }
        // The files exist when the directory is opened but one goes before it is read.
        let directory = try Self.makeDirectory()
        let opened = try PretrainedModelDirectory(path: directory.path)
        try FileManager.default.removeItem(atPath: directory.file("vocab.txt"))
        expectDataError(containing: [directory.file("vocab.txt"), "not found"]) { _ = try opened.loadTokenizer() }
    }

    @Test("config.json: unsupported activations, model types, architectures and bad sizes name the file and key")
    func configErrors() throws {
        let cases: [([String: Any?], [String])] = [
            (["hidden_act": "gelu_new"], ["hidden_act 'gelu_new'", "only 'gelu'"]),
            (["hidden_act": "relu"], ["hidden_act 'relu'"]),
            (["model_type": "roberta"], ["model_type 'roberta'", "BERT"]),
            (["architectures": ["GPT2LMHeadModel"]], ["architecture 'GPT2LMHeadModel'"]),
            (["model_type": nil, "architectures": nil], ["neither model_type nor architectures"]),
            (["hidden_size": 380], ["hidden_size 380", "num_attention_heads 12"]),
            (["num_hidden_layers": 0], ["num_hidden_layers must be positive, got 0"]),
            (["intermediate_size": -4], ["intermediate_size must be positive, got -4"]),
            (["pad_token_id": 30522], ["pad_token_id 30522"]),
            (["position_embedding_type": "relative_key"], ["position_embedding_type 'relative_key'"]),
            (["layer_norm_eps": 0], ["layer_norm_eps"]),
            (["hidden_size": "big"], ["'hidden_size' must be an integer"]),
        ]
        for (changes, fragments) in cases {
            let directory = try Self.makeDirectory(config: try Self.configJSON(changes))
            let opened = try PretrainedModelDirectory(path: directory.path)
            expectDataError(containing: [directory.file("config.json")] + fragments) { _ = try opened.loadConfig() }
        }
        let notJSON = try Self.makeDirectory(config: "{ hidden_size: 384")
        expectDataError(containing: [notJSON.file("config.json"), "not a JSON object"]) {
            _ = try PretrainedModelDirectory(path: notJSON.path).loadConfig()
        }
    }

    @Test("config.json: absent keys take Hugging Face's BertConfig defaults; BertFor… architectures are accepted")
    func configDefaults() throws {
        let directory = try Self.makeDirectory(config: #"{"architectures": ["BertForSequenceClassification"]}"#)
        let config = try PretrainedModelDirectory(path: directory.path).loadConfig()
        #expect(config == BertConfig { $0.modelType = nil; $0.architectures = ["BertForSequenceClassification"] })
        #expect(config.hiddenSize == 768 && config.layerCount == 12 && config.intermediateSize == 3072 && config.headSize == 64)
        #expect(try PretrainedModelDirectory(path: directory.path).defaultMaxLength(config: config) == 512)
    }

    @Test("tokenizer_config.json: a cased or otherwise different tokenizer is refused")
    func tokenizerSettings() throws {
        let directory = try Self.makeDirectory()
        let opened = try PretrainedModelDirectory(path: directory.path)
        try directory.write("tokenizer_config.json", text: #"{"do_lower_case": true, "tokenizer_class": "BertTokenizer", "model_max_length": 128}"#)
        #expect(try opened.loadTokenizer().tokenize("Hello") == ["hello"])
        #expect(try opened.defaultMaxLength(config: opened.loadConfig()) == 128)
        try directory.write("sentence_bert_config.json", text: #"{"max_seq_length": 64, "do_lower_case": false}"#)
        #expect(try opened.defaultMaxLength(config: opened.loadConfig()) == 64)
        for (settings, fragment) in [(#"{"do_lower_case": false}"#, "cased"),
                                     (#"{"strip_accents": false}"#, "strip_accents"),
                                     (#"{"tokenize_chinese_chars": false}"#, "tokenize_chinese_chars"),
                                     (#"{"tokenizer_class": "XLMRobertaTokenizer"}"#, "'XLMRobertaTokenizer'")] {
            try directory.write("tokenizer_config.json", text: settings)
            expectDataError(containing: [directory.file("tokenizer_config.json"), fragment]) { _ = try opened.loadTokenizer() }
        }
    }

    @Test("a damaged model.safetensors is a DataError naming it")
    func damagedWeights() throws {
        let directory = try Self.makeDirectory()
        try directory.write("model.safetensors", [1, 2, 3])
        expectDataError(containing: [directory.file("model.safetensors"), "not a safetensors file"]) {
            _ = try PretrainedModelDirectory(path: directory.path).loadWeights()
        }
    }
}
