import Cortado
import CortadoNN
import CortadoBenchmarks
import CortadoTraining
import Foundation
import Testing

/// `cortado prune` and `cortado bench --suite compression` through the built binary: pruned
/// checkpoints that eval and predict run unchanged, fine-tuning that keeps the masks, and clear
/// errors that leave files alone.
@Suite("Pruning on the command line", .serialized)
struct PruneCommandTests {
    /// A directory of 8×8 MNIST-format images and a cnn trained on it for one epoch.
    static func trainedCNN() throws -> (directory: TemporaryDirectory, checkpoint: String) {
        let directory = try TemporaryDirectory()
        let trainLabels: [UInt8] = (0..<24).map { UInt8($0 % 3) }, testLabels: [UInt8] = [2, 0, 1, 1, 0, 2]
        _ = try directory.write("train-images-idx3-ubyte", IDXBytes.images(count: trainLabels.count, rows: 8, columns: 8))
        _ = try directory.write("train-labels-idx1-ubyte", IDXBytes.labels(trainLabels))
        _ = try directory.write("t10k-images-idx3-ubyte", IDXBytes.images(count: testLabels.count, rows: 8, columns: 8))
        _ = try directory.write("t10k-labels-idx1-ubyte", IDXBytes.labels(testLabels))
        let checkpoint = directory.file("cnn.safetensors")
        let train = try Cortado.run(["train", "--model", "cnn", "--data", directory.path, "--epochs", "1", "--batch-size", "8",
                                     "--device", "cpu", "--seed", "2", "--save", checkpoint])
        #expect(train.status == 0, "\(train.stderr)")
        return (directory, checkpoint)
    }

    static func size(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
    }

    @Test("structured pruning of a cnn with fine-tuning writes a smaller checkpoint that eval and predict run on cpu and opencl")
    func structuredCNN() throws {
        let (directory, checkpoint) = try Self.trainedCNN()
        let out = directory.file("pruned.safetensors")
        let prune = try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", out, "--sparsity", "0.5", "--structured",
                                     "--fine-tune", "1", "--device", "cpu", "--json"])
        #expect(prune.status == 0, "\(prune.stderr)")
        let report = try #require(jsonLines(prune.stdout).first)
        let pruning = try #require(report["pruning"] as? [String: Any])
        let groups = try #require(pruning["groups"] as? [[String: Any]])
        #expect(groups.map { $0["name"] as? String } == ["0: convolution channels", "4: hidden units"])
        #expect(groups.map { $0["after"] as? Int } == [16, 32])
        #expect((pruning["dense"] as? [String])?.contains { $0.contains("output layer 6") } == true)
        for key in ["dense_accuracy", "pruned_accuracy", "fine_tuned_accuracy"] { #expect(report[key] as? Double != nil, "\(key)") }

        let saved = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: out))
        #expect(saved.configuration.widths == [16, 32])
        #expect(saved.configuration.epochsCompleted == 1)  // the fine-tuning epoch
        #expect(try saved.pruning()?.method == "structured")
        #expect(saved.file.info("model.0.weight")?.shape == [16, 1, 3, 3])
        #expect(try Self.size(out) < Self.size(checkpoint))
        var accuracies: [Double] = []
        for device in ["cpu", "opencl"] {
            let eval = try Cortado.run(["eval", "--checkpoint", out, "--device", device, "--json"])
            #expect(eval.status == 0, "\(eval.stderr)")
            accuracies.append(try #require(jsonLines(eval.stdout).first?["test_accuracy"] as? Double))
            let predict = try Cortado.run(["predict", "--checkpoint", out, "--input", directory.file("t10k-images-idx3-ubyte"),
                                           "--device", device, "--json"])
            #expect(predict.status == 0, "\(predict.stderr)")
            #expect(jsonLines(predict.stdout).count == 6)
        }
        #expect(accuracies[0] == accuracies[1])
        #expect(accuracies[0] == report["fine_tuned_accuracy"] as? Double)
        // The text output names the groups and what stays dense.
        let text = try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", directory.file("text.safetensors"), "--sparsity", "0.25",
                                    "--structured"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("0: convolution channels: 32 → 24") && text.stdout.contains("stays dense:"), "\(text.stdout)")
        // --norm taylor ranks on the training data and records the criterion.
        let taylor = directory.file("taylor.safetensors")
        let ranked = try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", taylor, "--sparsity", "0.5", "--structured",
                                      "--norm", "taylor", "--device", "cpu"])
        #expect(ranked.status == 0, "\(ranked.stderr)")
        #expect(try ModelCheckpoint(contentsOf: URL(fileURLWithPath: taylor)).pruning()?.norm == .taylor)
        expectFailure(try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", taylor, "--sparsity", "0.5", "--norm", "taylor"]),
                      mentioning: ["--norm taylor", "--structured"])
    }

    @Test("unstructured pruning zeroes the fraction asked for, and fine-tuning keeps those weights at zero")
    func unstructuredMasks() throws {
        let (directory, checkpoint) = try QuantizedCheckpointCommandTests.trainedMLP()
        let plain = directory.file("plain.safetensors"), tuned = directory.file("tuned.safetensors")
        let first = try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", plain, "--sparsity", "0.6"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("shrinks only when compressed"), "\(first.stdout)")
        let second = try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", tuned, "--sparsity", "0.6", "--fine-tune", "2",
                                      "--device", "cpu"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("test accuracy: dense"), "\(second.stdout)")
        let pruned = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: plain))
        let trained = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: tuned))
        let original = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
        #expect(trained.configuration.steps > 0)
        for name in ["model.1.weight", "model.3.weight"] {
            let a = try pruned.file.floats(name), b = try trained.file.floats(name)
            #expect(a.filter { $0 == 0 }.count == Int((0.6 * Double(a.count)).rounded()), "\(name)")
            #expect(zip(a, b).allSatisfy { $0.0 != 0 || $0.1 == 0 }, "\(name): a pruned weight came back in fine-tuning")
            #expect(zip(a, b).contains { $0.0 != $0.1 }, "\(name): fine-tuning changed nothing")
        }
        // Biases are not pruned.
        #expect(try pruned.file.floats("model.1.bias") == original.file.floats("model.1.bias"))
        // Fine-tuning runs at the checkpoint's base rate unless --lr gives another.
        #expect(trained.configuration.schedule.base == original.configuration.schedule.base)
        let faster = directory.file("faster.safetensors")
        let third = try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", faster, "--sparsity", "0.6", "--fine-tune", "1",
                                     "--lr", "0.0375", "--device", "cpu"])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(try ModelCheckpoint(contentsOf: URL(fileURLWithPath: faster)).configuration.schedule.base == 0.0375)
        // --distill: the dense model teaches; the masks still hold, and the epoch learns something else.
        let distilled = directory.file("distilled.safetensors"), labelled = directory.file("labelled.safetensors")
        for (out, extra) in [(distilled, ["--distill", "--distill-weight", "1", "--temperature", "3"]), (labelled, [])] {
            let run = try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", out, "--sparsity", "0.6", "--fine-tune", "1",
                                       "--device", "cpu"] + extra)
            #expect(run.status == 0, "\(run.stderr)")
        }
        let taught = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: distilled))
        let untaught = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: labelled))
        for name in ["model.1.weight", "model.3.weight"] {
            let mask = try pruned.file.floats(name), a = try taught.file.floats(name), b = try untaught.file.floats(name)
            #expect(zip(mask, a).allSatisfy { $0.0 != 0 || $0.1 == 0 }, "\(name): a pruned weight came back in distillation")
            #expect(zip(a, b).contains { abs($0.0 - $0.1) > 1e-6 }, "\(name): --distill changed nothing")
        }
    }

    @Test("bad input is a clear error and overwrites nothing")
    func errors() throws {
        let (directory, checkpoint) = try QuantizedCheckpointCommandTests.trainedMLP()
        let out = directory.file("out.safetensors")
        #expect(try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", out, "--sparsity", "0.5"]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: out)), input = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        for sparsity in ["1", "-0.1", "nan", "1.5"] {
            expectFailure(try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", out, "--sparsity", sparsity]),
                          mentioning: ["--sparsity"])
        }
        expectFailure(try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", checkpoint, "--sparsity", "0.5"]),
                      mentioning: [checkpoint, "--out"])
        for rate in ["0", "-1", "nan"] {
            expectFailure(try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", out, "--sparsity", "0.5", "--fine-tune", "1",
                                           "--lr", rate]), mentioning: ["--lr", rate])
        }
        expectFailure(try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", out, "--sparsity", "0.5", "--lr", "0.01"]),
                      mentioning: ["--lr", "--fine-tune"])
        let tuning = ["prune", "--checkpoint", checkpoint, "--out", out, "--sparsity", "0.5", "--fine-tune", "1"]
        expectFailure(try Cortado.run(Array(tuning.dropLast(2)) + ["--distill"]), mentioning: ["--distill", "--fine-tune"])
        expectFailure(try Cortado.run(tuning + ["--temperature", "3"]), mentioning: ["--temperature", "--distill"])
        expectFailure(try Cortado.run(tuning + ["--distill", "--temperature", "0"]), mentioning: ["--temperature", "0"])
        expectFailure(try Cortado.run(tuning + ["--distill", "--distill-weight", "2"]), mentioning: ["--distill-weight", "2"])
        let int8 = directory.file("int8.safetensors")
        #expect(try Cortado.run(["quantize", "--checkpoint", checkpoint, "--out", int8]).status == 0)
        expectFailure(try Cortado.run(["prune", "--checkpoint", int8, "--out", out, "--sparsity", "0.5"]), mentioning: [int8, "int8"])
        let foreign = directory.file("foreign.safetensors")
        try SafeTensors.write([SafeTensor](), metadata: ["format": "pt"], to: URL(fileURLWithPath: foreign))
        expectFailure(try Cortado.run(["prune", "--checkpoint", foreign, "--out", out, "--sparsity", "0.5"]),
                      mentioning: [foreign, "not a Cortado checkpoint"])
        expectFailure(try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", directory.path, "--sparsity", "0.5"]),
                      mentioning: ["directory"])
        let linear = directory.file("linear.safetensors")
        #expect(try Cortado.run(["train", "--model", "linear", "--data", directory.path, "--epochs", "1", "--device", "cpu",
                                 "--save", linear]).status == 0)
        expectFailure(try Cortado.run(["prune", "--checkpoint", linear, "--out", out, "--sparsity", "0.5", "--structured"]),
                      mentioning: ["linear", "without --structured"])
        // Fine-tuning that cannot read the data leaves --out as it was, and no temporary file behind.
        try FileManager.default.removeItem(atPath: directory.file("train-labels-idx1-ubyte"))
        expectFailure(try Cortado.run(["prune", "--checkpoint", checkpoint, "--out", out, "--sparsity", "0.5", "--fine-tune", "1",
                                       "--device", "cpu"]), mentioning: ["train-labels-idx1-ubyte"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }.isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == before)
        #expect(try Data(contentsOf: URL(fileURLWithPath: checkpoint)) == input)
    }

    @Test("bench --suite compression measures fp32, int8 and pruned copies and draws them")
    func compressionBench() throws {
        let (directory, checkpoint) = try QuantizedCheckpointCommandTests.trainedMLP()
        let svg = directory.file("compression.svg")
        let bench = try Cortado.run(["bench", "--suite", "compression", "--checkpoint", checkpoint, "--rounds", "1", "--device", "cpu",
                                     "--json", "--svg", svg])
        #expect(bench.status == 0, "\(bench.stderr)")
        let rows = jsonLines(bench.stdout)
        #expect(rows.map { $0["variant"] as? String } == ["fp32", "int8 per-channel", "pruned 30%", "pruned 50%"])
        #expect(rows.map { $0["parameters"] as? Int } == [256 * 6 + 256 + 3 * 256 + 3, 256 * 6 + 256 + 3 * 256 + 3,
                                                          179 * 6 + 179 + 3 * 179 + 3, 128 * 6 + 128 + 3 * 128 + 3])
        #expect(rows.allSatisfy { ($0["accuracy"] as? Double) != nil && ($0["samples_per_sec"] as? Double ?? 0) > 0 })
        #expect((rows[1]["weight_bytes"] as? Int ?? .max) < (rows[0]["weight_bytes"] as? Int ?? 0))
        let drawing = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(drawing.hasPrefix("<svg") && drawing.contains("pruned 50%") && drawing.contains("Eval speed"))
        expectFailure(try Cortado.run(["bench", "--suite", "compression", "--rounds", "1"]), mentioning: ["--checkpoint"])
    }

    @Test("bench --suite compression --norm puts each ranking's pruned copy side by side")
    func compressionBenchNorms() throws {
        let (directory, checkpoint) = try QuantizedCheckpointCommandTests.trainedMLP()
        let bench = try Cortado.run(["bench", "--suite", "compression", "--checkpoint", checkpoint, "--rounds", "1", "--device", "cpu",
                                     "--sparsity", "0.5", "--norm", "l1", "--norm", "taylor", "--json"])
        #expect(bench.status == 0, "\(bench.stderr)")
        let rows = jsonLines(bench.stdout)
        #expect(rows.map { $0["variant"] as? String } == ["fp32", "int8 per-channel", "pruned 50% l1", "pruned 50% taylor"])
        // The same shapes, different units kept: the weights differ, so their evaluations may too.
        #expect(rows[2]["parameters"] as? Int == 128 * 6 + 128 + 3 * 128 + 3 && rows[3]["parameters"] as? Int == rows[2]["parameters"] as? Int)
        // The library behind it records each copy's ranking.
        let variants = try CompressionBenchmark.variants(
            of: ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint)), in: directory.url, sparsities: [0.5], norms: [.l1, .taylor])
        #expect(try variants.suffix(2).map { try ModelCheckpoint(contentsOf: $0.url).pruning()?.norm } == [.l1, .taylor])
        expectFailure(try Cortado.run(["bench", "--suite", "compression", "--checkpoint", checkpoint, "--rounds", "1",
                                       "--norm", "l2", "--norm", "l2"]), mentioning: ["--norm", "twice"])
        expectFailure(try Cortado.run(["bench", "--suite", "ops", "--norm", "taylor"]), mentioning: ["--norm", "--suite compression"])
    }
}
