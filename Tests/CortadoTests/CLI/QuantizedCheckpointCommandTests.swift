import Cortado
import CortadoNN
import CortadoTraining
import Foundation
import Testing

/// `cortado quantize` end to end: an int8 checkpoint that eval and predict run on both backends,
/// that Python's safetensors reads, and clear errors that leave files alone.
@Suite("Quantized checkpoints on the command line", .serialized)
struct QuantizedCheckpointCommandTests {
    /// The cosine of each embedding `embed` printed (one JSON array per line) to its reference's;
    /// expects one embedding per reference.
    static func cosines(of stdout: String, to references: some Collection<MiniLMFixture.Text>) -> [(MiniLMFixture.Text, Float)] {
        let vectors = stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [Double])?.map { Float($0) }
        }
        #expect(vectors.count == references.count)
        return zip(vectors, references).map { vector, reference in
            (reference, zip(vector, reference.embedding).reduce(0) { $0 + $1.0 * $1.1 })
        }
    }

    /// A tiny MNIST-format directory and a float checkpoint of an MLP trained on it.
    static func trainedMLP() throws -> (directory: TemporaryDirectory, checkpoint: String) {
        let directory = try TemporaryDirectory()
        try writeMNISTDirectory(directory, trainLabels: [0, 1, 2, 1, 0, 2, 1, 0], testLabels: [2, 0, 1, 1])
        let checkpoint = directory.file("float.safetensors")
        let train = try Cortado.run(["train", "--model", "mlp", "--data", directory.path, "--epochs", "1", "--batch-size", "4",
                                     "--device", "cpu", "--seed", "3", "--save", checkpoint])
        #expect(train.status == 0, "\(train.stderr)")
        return (directory, checkpoint)
    }

    @Test("quantize writes an int8 checkpoint that eval and predict run on cpu and opencl", arguments: ["per-channel", "q8_0"])
    func roundTrip(scheme: String) throws {
        let (directory, checkpoint) = try Self.trainedMLP()
        let out = directory.file("int8.safetensors")
        let quantize = try Cortado.run(["quantize", "--checkpoint", checkpoint, "--out", out, "--scheme", scheme, "--json"])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        let report = try #require(jsonLines(quantize.stdout).first)
        #expect(report["scheme"] as? String == scheme)
        #expect(report["int8_layers"] as? [String] == ["1", "3"])
        #expect((report["size_ratio"] as? Double ?? 1) < 1)

        let saved = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: out))
        #expect(try saved.quantization()?.scheme.rawValue == scheme)
        #expect(saved.file.info("model.1.weight")?.dtype == .int8)
        #expect(saved.file.info("model.1.weight.scales")?.dtype == .float32)
        #expect(saved.file.metadata[ModelCheckpoint.schemeKey] == scheme)
        // Loaded, its Linear layers compute with the stored int8 weights.
        let layers = try saved.makeTrainedModel(device: .cpu).quantizableLayers()
        #expect(layers.map(\.name) == ["1", "3"])
        for (name, layer) in layers {
            let stored = try saved.file.tensor("model.\(name).weight", dtype: .int8)
            #expect(try layer.quantizedWeight?.values.elements(as: Int8.self) == stored.elements(as: Int8.self), "layer \(name)")
        }

        var accuracies: [Double] = []
        for device in ["cpu", "opencl"] {
            let eval = try Cortado.run(["eval", "--checkpoint", out, "--device", device, "--json"])
            #expect(eval.status == 0, "\(eval.stderr)")
            accuracies.append(try #require(jsonLines(eval.stdout).first?["test_accuracy"] as? Double))
            let predict = try Cortado.run(["predict", "--checkpoint", out, "--input", directory.file("t10k-images-idx3-ubyte"),
                                           "--device", device, "--json"])
            #expect(predict.status == 0, "\(predict.stderr)")
            #expect(jsonLines(predict.stdout).count == 4)
        }
        #expect(accuracies[0] == accuracies[1])
    }

    @Test("quantize --calibrate stores static activation scales from the training data; eval runs them on cpu and opencl",
          arguments: ["per-channel", "q8_0"])
    func calibrated(scheme: String) throws {
        let (directory, checkpoint) = try Self.trainedMLP()
        let out = directory.file("static.safetensors")
        let quantize = try Cortado.run(["quantize", "--checkpoint", checkpoint, "--out", out, "--scheme", scheme, "--calibrate", "2"])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        #expect(quantize.stdout.contains("static scales from 2 calibration batches"), "\(quantize.stdout)")
        let saved = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: out))
        #expect(try saved.quantization()?.calibrationBatches == 2)
        // The scales are those the library computes from the same two shuffled training batches.
        let float = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
        let expected = try float.calibrationScales(of: float.makeTrainedModel(device: .cpu), batches: 2,
                                                   scheme: try #require(QuantizationScheme(rawValue: scheme)), device: .cpu)
        for (name, layer) in try saved.makeTrainedModel(device: .cpu).quantizableLayers() {
            let stored = try saved.file.tensor("model.\(name).weight.input_scales", dtype: .float32)
            #expect(try stored.toArray() == expected[name]?.toArray(), "layer \(name)")
            #expect(try layer.quantizedWeight?.inputScales?.toArray() == stored.toArray(), "layer \(name) computes with them")
        }
        var outputs: [[Float]] = []
        for device in ["cpu", "opencl"] {
            let eval = try Cortado.run(["eval", "--checkpoint", out, "--device", device, "--json"])
            #expect(eval.status == 0, "\(eval.stderr)")
            let predict = try Cortado.run(["predict", "--checkpoint", out, "--input", directory.file("t10k-images-idx3-ubyte"),
                                           "--device", device, "--json"])
            #expect(predict.status == 0, "\(predict.stderr)")
            outputs.append(jsonLines(predict.stdout).flatMap { ($0["probabilities"] as? [Double] ?? []).map(Float.init) })
        }
        #expect(outputs[0].count == 12)
        assertClose(outputs[1], outputs[0], rtol: 1e-4, atol: 1e-5, "opencl against cpu")
        expectFailure(try Cortado.run(["quantize", "--checkpoint", checkpoint, "--out", directory.file("x.safetensors"), "--calibrate", "0"]),
                      mentioning: ["--calibrate"])
        expectFailure(try Cortado.run(["quantize", "--model", directory.path, "--out", directory.file("x"), "--calibrate", "2"]),
                      mentioning: ["--calibrate", "--checkpoint"])
        #expect(!FileManager.default.fileExists(atPath: directory.file("x.safetensors")))
    }

    @Test("Python's safetensors reads an int8 checkpoint: I8 weights, F32 scales, the scheme in the metadata")
    func pythonReads() throws {
        guard FileManager.default.isExecutableFile(atPath: toolingPython) else {
            Issue.record("the Python test tooling (tools/setup) is missing at \(toolingPython)")
            return
        }
        let (directory, checkpoint) = try Self.trainedMLP()
        let out = directory.file("int8.safetensors")
        #expect(try Cortado.run(["quantize", "--checkpoint", checkpoint, "--out", out]).status == 0)
        let script = """
            import json, sys
            from safetensors import safe_open
            with safe_open(sys.argv[1], framework="numpy") as f:
                w = f.get_tensor("model.1.weight"); s = f.get_tensor("model.1.weight.scales")
                print(json.dumps({"w": str(w.dtype), "s": str(s.dtype), "shape": list(w.shape), "scales": list(s.shape),
                                  "scheme": f.metadata()["quantization.scheme"], "max": int(abs(w.astype(int)).max())}))
            """
        let output = try runPython(script, arguments: [out], interpreter: toolingPython)
        let view = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(view["w"] as? String == "int8" && view["s"] as? String == "float32")
        #expect(view["shape"] as? [Int] == [256, 6] && view["scales"] as? [Int] == [256, 1])
        #expect(view["scheme"] as? String == "per-channel" && view["max"] as? Int == 127)
    }

    @Test("bad input is a clear error and overwrites nothing")
    func errors() throws {
        let (directory, checkpoint) = try Self.trainedMLP()
        let out = directory.file("int8.safetensors")
        #expect(try Cortado.run(["quantize", "--checkpoint", checkpoint, "--out", out]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let again = directory.file("again.safetensors")
        expectFailure(try Cortado.run(["quantize", "--checkpoint", out, "--out", again]), mentioning: [out, "already an int8"])
        #expect(!FileManager.default.fileExists(atPath: again))
        expectFailure(try Cortado.run(["quantize", "--checkpoint", checkpoint, "--out", checkpoint]), mentioning: ["--out"])
        expectFailure(try Cortado.run(["quantize", "--checkpoint", checkpoint, "--out", out, "--scheme", "q4"]), mentioning: ["q4"])
        expectFailure(try Cortado.run(["quantize", "--checkpoint", checkpoint, "--out", out, "--keep-float", "9"]),
                      mentioning: ["'9'", "1, 3"])
        let foreign = directory.file("foreign.safetensors")
        try SafeTensors.write([SafeTensor](), metadata: ["format": "pt"], to: URL(fileURLWithPath: foreign))
        expectFailure(try Cortado.run(["quantize", "--checkpoint", foreign, "--out", out]), mentioning: [foreign, "not a Cortado checkpoint"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == before)
        // Training cannot resume from an int8 checkpoint.
        expectFailure(try Cortado.run(["train", "--resume", out, "--epochs", "2", "--device", "cpu"]), mentioning: ["int8"])
    }

    @Test("embed --quantize int8 quantises every Linear (per-channel, q8_0 feed-forward outputs, smoothed on vocabulary words), says so, and stays close to float32 on cpu and opencl")
    func embedInt8() throws {
        let fixture = try MiniLMFixture.load()
        let model = try RealModel.directory().url.path
        let references = fixture.texts.filter { $0.maxLength >= 128 }.prefix(4)
        for device in ["cpu", "opencl"] {
            let result = try Cortado.run(["embed", "--model", model, "--device", device, "--quantize", "int8", "--compare",
                                          "--rounds", "1", "--calibrate", "16"] + references.map(\.text))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains(
                "int8: 36 Linear layers (30 per-channel, 6 q8_0, smoothed with strength 0.6 on 16 calibration texts (vocabulary words)); float: none"),
                    "\(result.stderr)")
            #expect(result.stderr.contains("cosine to float32: min 0.9"), "\(result.stderr)")
            for (reference, cosine) in Self.cosines(of: result.stdout, to: references) {
                #expect(cosine > 0.99, "\(device): \(reference.text)")
            }
        }
        expectFailure(try Cortado.run(["embed", "--model", model, "--quantize", "int8", "--dtype", "bf16", "a"]), mentioning: ["--dtype"])
        expectFailure(try Cortado.run(["embed", "--model", model, "--compare", "a"]), mentioning: ["--quantize"])
        expectFailure(try Cortado.run(["embed", "--model", model, "--quantize", "int8", "--keep-float", "pooler", "a"]),
                      mentioning: ["'pooler'"])
    }

    @Test("embed --smooth calibrates SmoothQuant's smoothing and keeps per-channel int8 close to float32 on cpu and opencl")
    func embedSmoothed() throws {
        let fixture = try MiniLMFixture.load()
        let model = try RealModel.directory().url.path
        let references = fixture.texts.filter { $0.maxLength >= 128 }.prefix(4)
        let scratch = try TemporaryDirectory()
        let calibration = try scratch.write("calibration.txt", text: fixture.texts.map(\.text).joined(separator: "\n") + "\n")
        for device in ["cpu", "opencl"] {
            let result = try Cortado.run(["embed", "--model", model, "--device", device, "--quantize", "int8", "--scheme", "per-channel",
                                          "--smooth", "0.5", "--calibration-input", calibration, "--calibrate", "6"] + references.map(\.text))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("int8: 36 Linear layers (36 per-channel, smoothed with strength 0.5 on 6 calibration texts); float: none"),
                    "\(result.stderr)")
            for (reference, cosine) in Self.cosines(of: result.stdout, to: references) {
                #expect(cosine > 0.99 && cosine < 0.999999, "\(device): \(reference.text) cosine \(cosine)")
            }
        }
        expectFailure(try Cortado.run(["embed", "--model", model, "--smooth", "0.5", "a"]), mentioning: ["--quantize"])
        expectFailure(try Cortado.run(["embed", "--model", model, "--quantize", "int8", "--smooth", "1.5", "a"]), mentioning: ["--smooth", "1.5"])
        expectFailure(try Cortado.run(["embed", "--model", model, "--quantize", "int8", "--scheme", "q8_0", "--calibration-input", calibration, "a"]),
                      mentioning: ["--smooth"])
        expectFailure(try Cortado.run(["embed", "--model", model, "--quantize", "int8", "--smooth", "0.5", "--calibrate", "0", "a"]),
                      mentioning: ["--calibrate"])
        let missing = scratch.file("missing.txt")
        expectFailure(try Cortado.run(["embed", "--model", model, "--quantize", "int8", "--smooth", "0.5", "--calibration-input", missing, "a"]),
                      mentioning: [missing])
    }

    @Test("bench gemm --int8 times SGEMM and the int8 product side by side on each device")
    func benchInt8() throws {
        let result = try Cortado.run(["bench", "gemm", "--size", "64", "--int8", "--device", "cpu", "--device", "opencl",
                                      "--repeats", "2", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let objects = jsonLines(result.stdout)
        #expect(objects.compactMap { $0["op"] as? String } == ["gemm", "int8 gemm (per-channel)", "gemm", "int8 gemm (per-channel)"])
        #expect(objects.allSatisfy { ($0["gflops"] as? Double ?? 0) > 0 })
    }

    @Test("quantize --model writes an int8 encoder directory that embed runs, close to the float32 embeddings")
    func modelDirectory() throws {
        let fixture = try MiniLMFixture.load()
        let model = try RealModel.directory().url.path
        let scratch = try TemporaryDirectory()
        let out = scratch.file("minilm-int8")
        let quantize = try Cortado.run(["quantize", "--model", model, "--out", out, "--json"])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        let report = try #require(jsonLines(quantize.stdout).first)
        #expect((report["int8_layers"] as? [String])?.count == 36)
        #expect(report["scheme"] as? String == "per-channel" && (report["float_layers"] as? [String])?.isEmpty == true)
        // The measured recipe: the feed-forward outputs in q8_0, smoothed on 512 vocabulary-word texts.
        let others = try #require(report["layer_schemes"] as? [String: String])
        #expect(others.count == 6 && others.allSatisfy { SentenceEncoder.isFeedForwardOutput($0.key) && $0.value == "q8_0" }, "\(others)")
        #expect(report["smoothing_strength"] as? Double == 0.6 && report["smoothing_texts"] as? Int == 512, "\(report)")
        for (name, layer) in try PretrainedModelDirectory(path: out).loadEncoder(device: .cpu).quantizableLayers() {
            #expect(layer.quantizedWeight?.scheme == (SentenceEncoder.isFeedForwardOutput(name) ? .q8_0 : .perChannel), "layer \(name)")
        }
        #expect((report["size_ratio"] as? Double ?? 1) < 0.3)
        for file in ["config.json", "vocab.txt"] { #expect(FileManager.default.fileExists(atPath: out + "/" + file)) }
        let references = fixture.texts.filter { $0.maxLength >= 128 }.prefix(4)
        for device in ["cpu", "opencl"] {
            let embed = try Cortado.run(["embed", "--model", out, "--device", device] + references.map(\.text))
            #expect(embed.status == 0, "\(embed.stderr)")
            for (reference, cosine) in Self.cosines(of: embed.stdout, to: references) {
                #expect(cosine > 0.99 && cosine < 0.999999, "\(device): \(reference.text) cosine \(cosine)")
            }
        }
        // A record whose layer_schemes names a layer outside int8_layers, or a scheme the layer's scales
        // do not have, is refused naming the file and what is wrong.
        let file = try SafeTensors.read(URL(fileURLWithPath: out + "/model.safetensors"))
        let tensors = try file.tensorNames.map { try file.rawTensor($0) }
        let record = try #require(try PretrainedModelDirectory(path: out).quantization())
        for (layer, scheme, fragment) in [("pooler.dense", QuantizationScheme.q8_0, "layer_schemes"),
                                          ("encoder.layer.0.output.dense", .perChannel, ".scales")] {
            var contradictory = record
            contradictory.layerSchemes?[layer] = scheme
            let bad = scratch.file("bad\(layer.count)")
            try FileManager.default.copyItem(atPath: out, toPath: bad)
            var metadata = file.metadata
            metadata[ModelCheckpoint.quantizationKey] = String(decoding: try JSONEncoder().encode(contradictory), as: UTF8.self)
            try SafeTensors.write(tensors, metadata: metadata, to: URL(fileURLWithPath: bad + "/model.safetensors"))
            expectFailure(try Cortado.run(["embed", "--model", bad, "--device", "cpu", "a"]), mentioning: [bad + "/model.safetensors", fragment])
        }
        expectFailure(try Cortado.run(["quantize", "--model", out, "--out", scratch.file("again")]), mentioning: ["already int8"])
        expectFailure(try Cortado.run(["quantize", "--model", model, "--out", model]), mentioning: ["--out"])
        expectFailure(try Cortado.run(["quantize", "--model", model, "--checkpoint", "x", "--out", out]), mentioning: ["one of them"])
    }

    @Test("quantize --model --smooth stores SmoothQuant's multipliers; embed runs the directory as it runs --smooth in memory")
    func smoothedModelDirectory() throws {
        let fixture = try MiniLMFixture.load()
        let model = try RealModel.directory().url.path
        let scratch = try TemporaryDirectory()
        let out = scratch.file("minilm-smooth")
        let texts = fixture.texts.map(\.text)
        let calibration = try scratch.write("calibration.txt", text: "\n" + texts.joined(separator: "\n\n") + "\n")
        let quantize = try Cortado.run(["quantize", "--model", model, "--out", out, "--scheme", "per-channel", "--smooth", "0.6",
                                        "--calibration-input", calibration, "--json"])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        let report = try #require(jsonLines(quantize.stdout).first)
        #expect(report["smoothing_strength"] as? Double == 0.6 && report["smoothing_texts"] as? Int == texts.count, "\(report)")
        let directory = try PretrainedModelDirectory(path: out)
        let record = try #require(try directory.quantization())
        #expect(record.smoothingStrength == 0.6 && record.int8Layers.count == 36)
        let weights = try directory.loadWeights().file
        for layer in record.int8Layers {
            let multipliers = try weights.tensor(layer + ".weight.input_multipliers", dtype: .float32).toArray()
            #expect(multipliers.allSatisfy { $0.isFinite && $0 > 0 } && Set(multipliers).count > 1, "layer \(layer)")
        }
        // The loaded encoder computes with the stored multipliers and keeps the float weight before smoothing.
        let encoder = try directory.loadEncoder(device: .cpu)
        let float = try PretrainedModelDirectory(path: model).loadEncoder(device: .cpu)
        let floatWeights = Dictionary(uniqueKeysWithValues: float.quantizableLayers().map { ($0.name, $0.layer.weight.value) })
        for (name, layer) in encoder.quantizableLayers() {
            let matrix = try #require(layer.quantizedWeight)
            let multipliers = try #require(matrix.inputMultipliers).toArray(), scales = try matrix.scales.toArray()
            // Within half an int8 step of the smoothed row, taken back through the column's multiplier.
            let (kept, original) = (try layer.weight.value.toArray(), try #require(floatWeights[name]).toArray())
            let far = kept.indices.filter { index in
                let (row, column) = (index / matrix.columns, index % matrix.columns)
                return abs(kept[index] - original[index]) > 0.501 * scales[row] * multipliers[column] + 1e-6 * abs(original[index])
            }
            #expect(far.isEmpty, "layer \(name): \(far.count) values of the float weight are not the weight before smoothing")
        }
        // The stored layers are those that smoothing in memory computes (embed --smooth's path).
        let inMemory = try SentenceEncoder(directory: PretrainedModelDirectory(path: model), device: .cpu)
        try inMemory.quantize(EncoderQuantization(scheme: .perChannel, smoothingStrength: 0.6, calibrationTexts: texts))
        let storedLayers = Dictionary(uniqueKeysWithValues: encoder.quantizableLayers().map { ($0.name, $0.layer) })
        for (name, layer) in inMemory.model.quantizableLayers() {
            let (want, got) = (try #require(layer.quantizedWeight), try #require(storedLayers[name]?.quantizedWeight))
            #expect(try got.values.elements(as: Int8.self) == want.values.elements(as: Int8.self), "layer \(name)")
            #expect(try got.scales.toArray() == want.scales.toArray() && got.inputMultipliers?.toArray() == want.inputMultipliers?.toArray(),
                    "layer \(name)")
        }
        let references = fixture.texts.filter { $0.maxLength >= 128 }.prefix(4)
        for device in ["cpu", "opencl"] {
            let embed = try Cortado.run(["embed", "--model", out, "--device", device] + references.map(\.text))
            #expect(embed.status == 0, "\(embed.stderr)")
            for (reference, cosine) in Self.cosines(of: embed.stdout, to: references) {
                #expect(cosine > 0.99 && cosine < 0.999999, "\(device): \(reference.text) cosine \(cosine)")
            }
        }
        expectFailure(try Cortado.run(["quantize", "--model", model, "--out", scratch.file("b"), "--scheme", "q8_0", "--calibration-input", calibration]),
                      mentioning: ["--smooth"])
        expectFailure(try Cortado.run(["quantize", "--model", model, "--out", scratch.file("c"), "--smooth", "2", "--calibration-input", calibration]),
                      mentioning: ["--smooth", "2"])
        expectFailure(try Cortado.run(["quantize", "--checkpoint", scratch.file("x.safetensors"), "--out", scratch.file("d"), "--smooth", "0.5",
                                       "--calibration-input", calibration]), mentioning: ["--model"])
        let empty = try scratch.write("empty.txt", text: "\n \n")
        expectFailure(try Cortado.run(["quantize", "--model", model, "--out", scratch.file("e"), "--smooth", "0.5", "--calibration-input", empty]),
                      mentioning: [empty, "no texts"])
        #expect(!FileManager.default.fileExists(atPath: scratch.file("e")))
    }
}
