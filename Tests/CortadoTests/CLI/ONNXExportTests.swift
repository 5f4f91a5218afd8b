import CortadoFormats
import Foundation
import Testing

/// Whether the test tooling's virtual environment has `onnxruntime` (tools/setup installs it).
let onnxRuntimeAvailable: Bool = {
    (try? runPython("import onnxruntime", interpreter: toolingPython)) != nil
}()

/// One input of an ONNX model: its values (as doubles), element type and shape.
struct ONNXInput {
    var values: [Double]
    var int64: Bool
    var shape: [Int]
}

/// Runs the ONNX file in onnxruntime on `inputs` and returns every output, flattened.
func runONNXRuntime(_ model: String, _ inputs: [String: ONNXInput], in directory: TemporaryDirectory) throws -> [String: [Double]] {
    let object = inputs.mapValues { ["data": $0.values, "int64": $0.int64, "shape": $0.shape] as [String: Any] }
    let inputFile = directory.fileURL("onnx-inputs-\(UUID().uuidString).json")
    try JSONSerialization.data(withJSONObject: object).write(to: inputFile)
    let script = """
        import json, sys
        import numpy as np, onnxruntime as ort
        session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
        raw = json.load(open(sys.argv[2]))
        feeds = {name: np.array(v["data"], dtype=np.int64 if v["int64"] else np.float32).reshape(v["shape"]) for name, v in raw.items()}
        names = [o.name for o in session.get_outputs()]
        results = session.run(names, feeds)
        print(json.dumps({n: np.asarray(r, dtype=np.float64).ravel().tolist() for n, r in zip(names, results)}))
        """
    let output = try runPython(script, arguments: [model, inputFile.path], interpreter: toolingPython)
    return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [Double]])
}

/// The largest absolute difference between two equally long arrays (infinity when lengths differ).
func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// The index of the largest value of each row of `columns` values.
func rowArgmax(_ values: [Double], columns: Int) -> [Int] {
    stride(from: 0, to: values.count, by: columns).map { start in
        let row = values[start..<(start + columns)]
        return row.indices.max { row[$0] < row[$1] }! - start
    }
}

@Suite("ONNX export", .enabled(if: onnxRuntimeAvailable, "the test tooling has no onnxruntime package: run tools/setup"))
struct ONNXExportTests {
    /// Trains `arguments` for one epoch (then prunes with `prune`'s flags, if any), exports the
    /// checkpoint, runs the file and the checkpoint's model on the same inputs and compares the
    /// logits (and probabilities).
    private func roundTrip(
        _ name: String, train arguments: [String], prune: [String] = [], directory: TemporaryDirectory,
        inputs: (CheckpointConfiguration) throws -> (onnx: [String: ONNXInput], cortado: (any Module) throws -> Tensor)
    ) throws -> Double {
        var checkpoint = directory.file("\(name).safetensors")
        let onnx = directory.file("\(name).onnx")
        let train = try Cortado.run(["train"] + arguments + ["--epochs", "1", "--device", "cpu", "--save", checkpoint])
        #expect(train.status == 0, "\(train.stderr)")
        if !prune.isEmpty {
            let pruned = directory.file("\(name)-pruned.safetensors")
            let result = try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", pruned] + prune)
            #expect(result.status == 0, "\(result.stderr)")
            checkpoint = pruned
        }
        let export = try Cortado.run(["export", "--checkpoint", checkpoint, "--onnx", onnx])
        #expect(export.status == 0, "\(export.stderr)")
        let file = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
        let model = try file.makeTrainedModel(device: .cpu)
        model.eval()
        let (feeds, forward) = try inputs(file.configuration)
        let expected = try forward(model).toArray().map(Double.init)
        let outputs = try runONNXRuntime(onnx, feeds, in: directory)
        let columns = file.configuration.outputs
        if file.configuration.task == .regression {
            let prediction = try #require(outputs["prediction"])
            return maxAbsDifference(prediction, expected)
        }
        let logits = try #require(outputs["logits"], "\(outputs.keys)")
        let difference = maxAbsDifference(logits, expected)
        #expect(difference <= 1e-4, "\(name): logits differ by \(difference)")
        if columns > 1 {
            #expect(rowArgmax(logits, columns: columns) == rowArgmax(expected, columns: columns), "\(name)")
            let probabilities = try #require(outputs["probabilities"])
            for row in stride(from: 0, to: probabilities.count, by: columns) {
                #expect(abs(probabilities[row..<(row + columns)].reduce(0, +) - 1) < 1e-5)
            }
        } else {
            #expect(logits.map { $0 > 0 } == expected.map { $0 > 0 }, "\(name)")
        }
        return difference
    }

    /// `count` images of the checkpoint's sample shape with values in [0, 1].
    private func images(_ configuration: CheckpointConfiguration, count: Int) -> (onnx: [String: ONNXInput], cortado: (any Module) throws -> Tensor) {
        let shape = [count] + configuration.sampleShape
        let values = Fixtures.values(shape.reduce(1, *), seed: 7, low: 0, high: 1)
        return (["input": ONNXInput(values: values.map(Double.init), int64: false, shape: shape)],
                { model in try model(Tensor(values, shape: shape, device: .cpu)) })
    }

    /// Token ids of `count` texts of `length` tokens below `vocabulary`, the first padded at the front.
    private func tokens(_ configuration: CheckpointConfiguration, count: Int, length: Int) -> (onnx: [String: ONNXInput], cortado: (any Module) throws -> Tensor) {
        let vocabulary = configuration.tokenizer?.vocabularySize ?? 2
        var ids = Fixtures.values(count * length, seed: 3, low: 2, high: Float(vocabulary)).map { Int32($0) }
        for position in 0..<(length / 2) { ids[position] = 0 }
        return (["input_ids": ONNXInput(values: ids.map(Double.init), int64: true, shape: [count, length])],
                { model in try model(Tensor(indices: ids, shape: [count, length], device: .cpu)) })
    }

    @Test("linear, mlp, cnn and lenet export; onnxruntime reproduces their outputs within 1e-4")
    func imageAndTabularModels() throws {
        let directory = try TemporaryDirectory()
        var differences: [String: Double] = [:]
        for model in ["mlp", "cnn", "lenet"] {
            differences[model] = try roundTrip(model, train: ["--model", model, "--limit", "256", "--batch-size", "64"], directory: directory) {
                images($0, count: 5)
            }
        }
        // Linear regression on a CSV: the graph standardises the raw features itself.
        let csv = directory.file("houses.csv")
        let rows = (0..<120).map { i -> String in
            let size = 50 + Double(i % 37) * 3.5, rooms = Double(1 + i % 5), age = Double((i * 7) % 40)
            return "\(size),\(rooms),\(age),\(1000 * size + 5000 * rooms - 300 * age)"
        }
        try (["size,rooms,age,price"] + rows).joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        differences["linear"] = try roundTrip("linear", train: ["--model", "linear", "--data", csv, "--target", "price", "--lr", "0.05"],
                                              directory: directory) { configuration in
            let raw: [Float] = [60, 2, 10, 120, 4, 33, 75.5, 1, 0]
            let standardization = try #require(configuration.standardization)
            let standardized = raw.enumerated().map { index, value in
                (value - standardization.means[index % 3]) / standardization.standardDeviations[index % 3]
            }
            return (["input": ONNXInput(values: raw.map(Double.init), int64: false, shape: [3, 3])],
                    { model in try model(Tensor(standardized, shape: [3, 3], device: .cpu)) })
        }
        let prediction = try #require(differences["linear"])
        #expect(prediction <= 1e-4 * 200_000, "linear: predictions (about 1e5) differ by \(prediction)")
        for (model, difference) in differences where model != "linear" { #expect(difference <= 1e-4, "\(model): \(difference)") }
    }

    @Test("lstm and gru export with a dynamic sequence length; onnxruntime reproduces their outputs within 1e-4")
    func recurrentModels() throws {
        let directory = try TemporaryDirectory()
        let csv = try TextFixtures.sentimentCSV(in: directory)
        for model in ["lstm", "gru"] {
            for length in [12, 5] {
                let difference = try roundTrip("\(model)-\(length)", train: ["--model", model, "--data", csv, "--max-len", "12", "--batch-size", "32"],
                                               directory: directory) { tokens($0, count: 4, length: length) }
                #expect(difference <= 1e-4, "\(model), \(length) tokens: \(difference)")
            }
        }
    }

    @Test("bert-classifier exports with input_ids and attention_mask; onnxruntime reproduces it within 1e-4 (also with pruned heads)",
          arguments: [[], ["--sparsity", "0.5", "--structured"]])
    func bertClassifier(prune: [String]) throws {
        let directory = try TemporaryDirectory()
        let tiny = try TinyBertDirectory.write(in: directory)
        let tsv = try TextFixtures.threeClassTSV(in: directory)
        let difference = try roundTrip("bert", train: ["--model", "bert-classifier", "--init", tiny, "--data", tsv, "--max-len", "8",
                                                       "--batch-size", "8", "--lr", "1e-2"], prune: prune, directory: directory) { configuration in
            if !prune.isEmpty { #expect(try #require(configuration.bert).architecture.attentionHeadSize != nil) }
            let vocabulary = try #require(configuration.bert).architecture.vocabularySize
            let (batch, length) = (3, 7)
            var ids = Fixtures.values(batch * length, seed: 5, low: 5, high: Float(vocabulary)).map { Int32($0) }
            var mask = [Float](repeating: 1, count: batch * length)
            for position in 4..<length { ids[length + position] = 0; mask[length + position] = 0 }  // the second text is shorter
            return (["input_ids": ONNXInput(values: ids.map(Double.init), int64: true, shape: [batch, length]),
                     "attention_mask": ONNXInput(values: mask.map(Double.init), int64: true, shape: [batch, length])],
                    { model in
                        let classifier = try #require(model as? BertClassifier)
                        return try classifier(Tensor(indices: ids, shape: [batch, length], device: .cpu),
                                              mask: Tensor(mask, shape: [batch, length], device: .cpu))
                    })
        }
        #expect(difference <= 1e-4)
    }

    @Test("a Hugging Face encoder exports; its sentence embeddings match Cortado's within 1e-4")
    func tinyEncoder() throws {
        let directory = try TemporaryDirectory()
        let tiny = try TinyBertDirectory.write(in: directory)
        try expectEncoderMatches(tiny, texts: ["the film was great", "an utterly charming story , really", "dull"], directory: directory)
    }

    @Test("the exported all-MiniLM-L6-v2 gives the embeddings of cortado embed within 1e-4",
          .enabled(if: FileManager.default.fileExists(atPath: PretrainedModelDirectory.defaultPath + "/model.safetensors"),
                   "all-MiniLM-L6-v2 is not fetched: run tools/setup"))
    func miniLM() throws {
        let directory = try TemporaryDirectory()
        try expectEncoderMatches(PretrainedModelDirectory.defaultPath,
                                 texts: ["A man is eating food.", "A man is riding a horse.", "Café au lait, s'il vous plaît!"], directory: directory)
    }

    private func expectEncoderMatches(_ modelDirectory: String, texts: [String], directory: TemporaryDirectory) throws {
        let onnx = directory.file("encoder.onnx")
        let export = try Cortado.run(["export", "--model", modelDirectory, "--onnx", onnx])
        #expect(export.status == 0, "\(export.stderr)")
        let pretrained = try PretrainedModelDirectory(path: modelDirectory)
        let batch = try pretrained.loadTokenizer().encode(batch: texts, maxLength: 64)
        let outputs = try runONNXRuntime(onnx, [
            "input_ids": ONNXInput(values: batch.ids.map(Double.init), int64: true, shape: batch.shape),
            "attention_mask": ONNXInput(values: batch.attentionMask.map(Double.init), int64: true, shape: batch.shape),
        ], in: directory)
        // `cortado embed` prints the same numbers as this library call.
        let embed = try Cortado.run(["embed", "--model", modelDirectory, "--device", "cpu"] + texts)
        #expect(embed.status == 0, "\(embed.stderr)")
        let printed = try embed.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Double])
        }
        let exported = try #require(outputs["sentence_embedding"])
        let difference = maxAbsDifference(exported, printed.flatMap { $0 })
        #expect(difference <= 1e-4, "sentence embeddings differ by \(difference)")
        #expect(outputs["last_hidden_state"]?.count == batch.ids.count * (printed.first?.count ?? 0))
    }

    @Test("export refuses what it cannot write, with messages that name the file")
    func refusals() throws {
        let directory = try TemporaryDirectory()
        let notCheckpoint = directory.file("plain.safetensors")
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: notCheckpoint))
        expectFailure(try Cortado.run(["export", "--checkpoint", notCheckpoint, "--onnx", directory.file("x.onnx")]), mentioning: [notCheckpoint])
        expectFailure(try Cortado.run(["export", "--onnx", directory.file("x.onnx")]), mentioning: ["--checkpoint", "--model"])
        expectFailure(try Cortado.run(["export", "--model", directory.file("missing"), "--onnx", directory.file("x.onnx")]), mentioning: ["missing"])
        // A checkpoint whose weights are of a type ONNX export does not read (int8) is refused by name.
        let checkpoint = directory.file("mlp.safetensors")
        let train = try Cortado.run(["train", "--model", "mlp", "--limit", "64", "--epochs", "1", "--device", "cpu", "--save", checkpoint])
        #expect(train.status == 0, "\(train.stderr)")
        let file = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
        var tensors: [SafeTensor] = []
        for info in file.file.tensors {
            if info.name == "model.1.weight" {
                tensors.append(try SafeTensor(name: info.name, dtype: .int8, shape: info.shape, bytes: [UInt8](repeating: 1, count: info.shape.reduce(1, *))))
            } else {
                let values = try file.file.tensor(info.name, dtype: .float32, device: .cpu).toArray()
                tensors.append(try SafeTensor(name: info.name, values: values, shape: info.shape))
            }
        }
        let int8 = directory.fileURL("int8.safetensors")
        try SafeTensors.write(tensors, metadata: file.file.metadata, to: int8)
        expectFailure(try Cortado.run(["export", "--checkpoint", int8.path, "--onnx", directory.file("x.onnx")]), mentioning: ["I8", "model.1.weight"])
        // An int8 checkpoint of `cortado quantize` is refused with what to do instead.
        let quantized = directory.file("mlp-int8.safetensors")
        let quantize = try Cortado.run(["quantize", "--checkpoint", checkpoint, "--out", quantized])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        expectFailure(try Cortado.run(["export", "--checkpoint", quantized, "--onnx", directory.file("x.onnx")]),
                      mentioning: [quantized, "int8", "float32 checkpoint"])
        #expect(!FileManager.default.fileExists(atPath: directory.file("x.onnx")))
    }

    @Test("a half-precision checkpoint exports in float32")
    func halfPrecision() throws {
        let directory = try TemporaryDirectory()
        let difference = try roundTrip("mlp-bf16", train: ["--model", "mlp", "--limit", "128", "--save-dtype", "bfloat16"], directory: directory) {
            images($0, count: 2)
        }
        #expect(difference <= 1e-4)
    }
}
