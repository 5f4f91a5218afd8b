import CortadoTraining
import Foundation
import Testing

@Suite("Command line")
struct CommandLineTests {
    /// A tiny MNIST-format directory (3×2 images, 3 classes) for fast end-to-end runs.
    func tinyImages() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try writeMNISTDirectory(directory, trainLabels: [0, 1, 2, 1, 0, 2, 1, 0], testLabels: [2, 0, 1, 1])
        return directory
    }

    @Test("devices --json lists the CPU and the OpenCL devices with the documented keys")
    func devicesJSON() throws {
        let result = try Cortado.run(["devices", "--json"])
        #expect(result.status == 0)
        let devices = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(devices.first?["id"] as? String == "cpu" && devices.first?["kind"] as? String == "cpu")
        let openCL = try #require(devices.first { $0["kind"] as? String == "opencl" })
        for key in ["name", "type", "id", "vendor", "compute_units", "global_memory_bytes", "driver_version"] {
            #expect(openCL[key] != nil, "missing \(key)")
        }
    }

    @Test("help text flows as paragraphs at 80 columns, with no line broken short inside one, and shows defaults as typed",
          arguments: [[], ["train"], ["eval"], ["predict"], ["embed"], ["devices"], ["tune"],
                      ["bench", "suite"], ["bench", "gemm"], ["bench", "startup"]])
    func helpParagraphs(command: [String]) throws {
        let result = try Cortado.run(command + ["--help"], environment: ["COLUMNS": "80"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // ArgumentParser wraps prose before column 80 (and never wraps the usage line).
        #expect(lines.allSatisfy { $0.count <= 80 || $0.hasPrefix("USAGE:") }, "a line wider than 80 columns")
        // Prose lines only (examples are indented; a line ending in ':' introduces a list or an
        // example): when the next line's first word would have fitted, a newline broke the paragraph.
        for (previous, line) in zip(lines, lines.dropFirst()) {
            guard let first = line.split(separator: " ").first, !line.hasPrefix(" "), !previous.hasPrefix(" "),
                  !previous.isEmpty, !previous.hasSuffix(":") else { continue }
            #expect(previous.count + 1 + first.count > 79, "\(command): a paragraph breaks after \"\(previous)\"")
        }
        // Defaults show as the values a user types (not as Swift enum cases).
        #expect(!result.stdout.contains("builtin("), "\(command): a default printed as a Swift value")
    }

    @Test("an absent device is an error that lists the devices", arguments: [["bench", "gemm", "--size", "64", "--device", "gpu:7"],
                                                                         ["train", "--device", "tpu"], ["devices", "--json", "--bogus"]])
    func unknownDevice(arguments: [String]) throws {
        let result = try Cortado.run(arguments)
        if arguments.contains("--bogus") {
            expectFailure(result, mentioning: ["--bogus"])
        } else {
            expectFailure(result, mentioning: ["unknown device", "available devices", "cpu", "opencl:0"])
        }
    }

    @Test("bench gemm --json prints one object per device with the documented keys")
    func benchJSON() throws {
        let result = try Cortado.run(["bench", "gemm", "--size", "48", "--device", "cpu", "--device", "opencl", "--repeats", "2", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for key in ["op", "device", "size", "median_ms", "gflops"] { #expect(object[key] != nil, "missing \(key)") }
        }
    }

    @Test("bench --model minilm times the encoder's blocks on each device; an unknown model lists the known ones")
    func benchMiniLM() throws {
        let result = try Cortado.run(["bench", "--suite", "model", "--model", "minilm", "--filter", "block] forward",
                                      "--batch-size", "2", "--device", "cpu", "--device", "opencl",
                                      "--repeats", "1", "--warmup", "0", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let objects = result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.map { $0["case"] as? String } == ["minilm[block] forward", "minilm[block] forward"])
        #expect(Set(objects.compactMap { $0["device"] as? String }) == ["cpu", "opencl:0"])
        expectFailure(try Cortado.run(["bench", "--model", "gpt5"]), mentioning: ["gpt5", "minilm"])
    }

    @Test("bench --suite ops --precision bf16 keeps the operands in bf16: half the bytes; bert-classifier points to minilm")
    func benchOpsInComputeType() throws {
        let result = try Cortado.run(["bench", "--suite", "ops", "--filter", "add 16M", "--device", "cpu", "--device", "opencl",
                                      "--precision", "fp32", "--precision", "bf16", "--repeats", "1", "--warmup", "0", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let objects = result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.count == 4, "\(result.stdout)")
        for object in objects {
            // The sum's result: 16 Mi elements of the precision's size (the inputs were live before).
            let expected = object["precision"] as? String == "bf16" ? 32 << 20 : 64 << 20
            #expect(object["peak_bytes"] as? Int == expected, "\(object)")
            #expect((object["gbps"] as? Double ?? 0) > 0, "\(object)")
        }
        expectFailure(try Cortado.run(["bench", "--model", "bert-classifier"]), mentioning: ["bert-classifier", "minilm"])
    }

    @Test("train, eval on the other backend, and predict work together")
    func trainEvalPredict() throws {
        let data = try tinyImages()
        let checkpoint = data.file("model.safetensors")
        let train = try Cortado.run(["train", "--model", "mlp", "--data", data.path, "--epochs", "2", "--batch-size", "4",
                                     "--device", "cpu", "--seed", "3", "--json", "--save", checkpoint])
        #expect(train.status == 0, "\(train.stderr)")
        let epochs = train.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(epochs.count == 2)
        for key in ["epoch", "train_loss", "test_loss", "test_accuracy", "seconds", "samples_per_sec", "device"] {
            #expect(epochs.last?[key] != nil, "missing \(key)")
        }
        try expectEvalOnOpenCLReproduces(checkpoint, try #require(epochs.last))

        let predict = try Cortado.run(["predict", "--checkpoint", checkpoint, "--input", data.file("t10k-images-idx3-ubyte"), "--json"])
        #expect(predict.status == 0, "\(predict.stderr)")
        let rows = predict.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(rows.count == 4)
        for row in rows {
            let probabilities = try #require(row["probabilities"] as? [Double])
            #expect(abs(probabilities.reduce(0, +) - 1) < 1e-4 && row["class"] is Int)
        }
    }

    @Test("the linear model recovers y = 2·x1 − 3·x2 + 0.5 from noisy CSV data")
    func linearRegression() throws {
        let directory = try TemporaryDirectory()
        var lines = ["x1,x2,y"]
        let inputs = Fixtures.values(800, seed: 41, low: -5, high: 5), noise = Fixtures.values(400, seed: 42, low: -0.1, high: 0.1)
        for i in 0..<400 {
            let (x1, x2) = (inputs[2 * i], inputs[2 * i + 1])
            lines.append("\(x1),\(x2),\(2 * x1 - 3 * x2 + 0.5 + noise[i])")
        }
        let csv = try directory.write("linear.csv", text: lines.joined(separator: "\n") + "\n")
        let result = try Cortado.run(["train", "--model", "linear", "--data", csv, "--target", "y", "--optimizer", "sgd",
                                      "--lr", "0.05", "--epochs", "20", "--batch-size", "16", "--device", "cpu"])
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("coefficients:") })
        let numbers = line.split(whereSeparator: { $0 == " " || $0 == "," }).compactMap { Float($0) }
        #expect(numbers.count == 3, "\(line)")
        #expect(abs(numbers[0] - 2) < 0.05 && abs(numbers[1] + 3) < 0.05 && abs(numbers[2] - 0.5) < 0.05, "\(line)")
    }

    @Test("bad data is a clear error naming the file", arguments: ["missing", "magic", "truncated", "mismatch", "csv"])
    func badData(_ problem: String) throws {
        let directory = try TemporaryDirectory()
        try writeMNISTDirectory(directory)
        var data = directory.path
        var extra: [String] = []
        var fragments: [String]
        switch problem {
        case "missing":
            data = directory.file("no-such-directory")
            fragments = ["no-such-directory"]
        case "magic":
            try directory.write("train-images-idx3-ubyte", IDXBytes.file(typeCode: 0x08, dimensions: [5, 3, 2, 1], payload: [UInt8](repeating: 0, count: 30)))
            fragments = ["train-images-idx3-ubyte", "magic"]
        case "truncated":
            try directory.write("t10k-images-idx3-ubyte", Array(IDXBytes.images(count: 3).dropLast(4)))
            fragments = ["t10k-images-idx3-ubyte", "truncated"]
        case "mismatch":
            try directory.write("train-labels-idx1-ubyte", IDXBytes.labels([0, 1, 2, 1]))
            fragments = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "5", "4"]
        default:
            data = try directory.write("table.csv", text: "a,b,y\n1,2,3\n4,oops,6\n7,8,9\n1,1,1\n2,2,2\n")
            extra = ["--target", "y", "--model", "linear"]
            fragments = ["table.csv", "line 3", "'b'", "oops"]
        }
        let result = try Cortado.run(["train", "--data", data, "--epochs", "1", "--device", "cpu"] + extra)
        expectFailure(result, mentioning: fragments)
    }

    @Test("bad flags are clear errors", arguments: [
        (["--model", "resnet"], "resnet"), (["--optimizer", "lion"], "lion"), (["--batch-size", "0"], "--batch-size"),
        (["--lr", "0"], "--lr"), (["--lr", "-0.1"], "--lr"), (["--epochs", "0"], "--epochs"),
    ])
    func badFlags(arguments: [String], fragment: String) throws {
        expectFailure(try Cortado.run(["train"] + arguments), mentioning: [fragment])
    }

    @Test("an unwritable --save path is refused before training starts")
    func unwritableSave() throws {
        let result = try Cortado.run(["train", "--model", "mlp", "--device", "cpu", "--save", "/no/such/directory/model.safetensors"])
        expectFailure(result, mentioning: ["/no/such/directory"])
        #expect(!result.stderr.contains("training mlp") && !result.stdout.contains("epoch"))
    }

    @Test("a NaN loss stops with the step number and leaves an existing checkpoint untouched")
    func nanLoss() throws {
        let directory = try TemporaryDirectory()
        var lines = ["x,y"]
        for i in 0..<50 { lines.append("\(i % 7),\(i == 23 ? "3e38" : "1")") }
        let csv = try directory.write("overflow.csv", text: lines.joined(separator: "\n") + "\n")
        let checkpoint = try directory.write("model.safetensors", text: "previous contents")
        let result = try Cortado.run(["train", "--model", "linear", "--data", csv, "--target", "y", "--optimizer", "sgd",
                                      "--batch-size", "4", "--epochs", "2", "--device", "cpu", "--save", checkpoint])
        expectFailure(result, mentioning: ["step", "loss became"])
        #expect(try String(contentsOfFile: checkpoint, encoding: .utf8) == "previous contents")
    }

    @Test("corrupt or foreign checkpoints are clear errors naming the file")
    func badCheckpoints() throws {
        let directory = try TemporaryDirectory()
        let truncated = try directory.write("truncated.safetensors", [200, 0, 0, 0, 0, 0, 0, 0, 123])
        expectFailure(try Cortado.run(["eval", "--checkpoint", truncated]), mentioning: ["truncated.safetensors"])
        let foreign = directory.fileURL("foreign.safetensors")
        try SafeTensors.write([("weight", try Tensor([1, 2, 3]))], to: foreign)
        expectFailure(try Cortado.run(["eval", "--checkpoint", foreign.path]), mentioning: ["foreign.safetensors", "not a Cortado checkpoint"])
        expectFailure(try Cortado.run(["eval", "--checkpoint", directory.file("absent.safetensors")]), mentioning: ["absent.safetensors"])
    }

    @Test("Ctrl-C during training finishes the step, writes a loadable checkpoint, and exits")
    func interruptSavesCheckpoint() throws {
        let directory = try TemporaryDirectory()
        let checkpoint = directory.file("interrupted.safetensors")
        let err = directory.fileURL("stderr")
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = Cortado.executable
        process.arguments = ["train", "--model", "mlp", "--epochs", "50", "--limit", "6000", "--device", "cpu", "--save", checkpoint]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        // Wait until training has started (the interrupt handler is installed before this line).
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !(try String(contentsOf: err, encoding: .utf8)).contains("training mlp") {
            Thread.sleep(forTimeInterval: 0.1)
        }
        Thread.sleep(forTimeInterval: 0.5)
        process.interrupt()
        process.waitUntilExit()
        let messages = try String(contentsOf: err, encoding: .utf8)
        #expect(process.terminationReason == .exit && process.terminationStatus == 130, "\(messages)")
        #expect(messages.contains("interrupted during epoch"))
        let saved = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
        #expect(saved.configuration.model == .mlp && saved.configuration.steps > 0)
        _ = try saved.makeModel(device: .cpu)
    }
}

@Suite("Command line: tune")
struct TuneCommandTests {
    @Test("tune searches, reports the gain, and stores a table in the configuration directory")
    func tuneStores() throws {
        let config = try TemporaryDirectory()
        let result = try Cortado.run(["tune", "--device", "opencl", "--quick", "--json"], environment: ["CORTADO_CONFIG_DIR": config.path])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((report["tried"] as? Int ?? 0) > 3)
        #expect(report["gain"] is Double && report["tuned_score"] is Double)
        let stored = try #require(report["stored"] as? String)
        #expect(stored.hasPrefix(config.path) && FileManager.default.fileExists(atPath: stored))
        expectFailure(try Cortado.run(["tune", "--device", "cpu"]), mentioning: ["OpenCL"])
    }
}
