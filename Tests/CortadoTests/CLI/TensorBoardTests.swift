import CortadoFormats
import Foundation
import Testing

/// Whether the test tooling's virtual environment has the `tensorboard` package (tools/setup installs it).
let tensorboardAvailable: Bool = {
    (try? runPython("import tensorboard", interpreter: toolingPython)) != nil
}()

@Suite("TensorBoard event files")
struct TensorBoardTests {
    @Test("CRC-32C and its masked form match the published check values")
    func crc() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        // TensorFlow's masked CRC of the empty string: mask(0) = 0xA282EAD8.
        #expect(CRC32C.masked([UInt8]()) == 0xA282_EAD8)
    }

    @Test("a record is the length, its masked CRC, the payload and its masked CRC")
    func recordFraming() {
        let record = [UInt8](TFRecordWriter.record(Data("abc".utf8)))
        #expect(record.count == 8 + 4 + 3 + 4)
        #expect(record[0..<8] == [3, 0, 0, 0, 0, 0, 0, 0])
        let crc = CRC32C.masked(record[0..<8])
        #expect(record[8..<12] == ArraySlice((0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32($0))) }))
        #expect(record[12..<15] == ArraySlice("abc".utf8))
    }

    @Test("a log folder that is a file is a clear error, not a crash")
    func badFolder() throws {
        let directory = try TemporaryDirectory()
        let file = directory.fileURL("plain")
        try Data("x".utf8).write(to: file)
        #expect(throws: FormatError.self) { try TensorBoardWriter(logDirectory: file) }
        let result = try Cortado.run(["train", "--model", "linear", "--limit", "64", "--epochs", "1", "--device", "cpu", "--logdir", file.path])
        expectFailure(result, mentioning: [file.path])
    }

    @Test(
        "train --logdir writes what --json reports; --resume continues the run; TensorBoard reads and serves it",
        .enabled(if: tensorboardAvailable, "the test tooling has no tensorboard package: run tools/setup"))
    func trainAndResume() throws {
        let directory = try TemporaryDirectory()
        let logs = directory.fileURL("logs").path, checkpoint = directory.fileURL("m.safetensors").path
        let common = ["--limit", "512", "--batch-size", "64", "--device", "cpu", "--json", "--logdir", logs, "--save", checkpoint]
        let first = try Cortado.run(["train", "--model", "mlp", "--epochs", "2", "--schedule", "cosine", "--warmup", "3",
                                     "--loss-log", directory.fileURL("steps.jsonl").path] + common)
        #expect(first.status == 0, "\(first.stderr)")
        let resumed = try Cortado.run(["train", "--resume", checkpoint, "--epochs", "3"] + common)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let epochs = jsonLines(first.stdout) + jsonLines(resumed.stdout)
        #expect(epochs.count == 3)
        let stepLosses = jsonLines(try String(contentsOf: directory.fileURL("steps.jsonl"), encoding: .utf8))

        let reader = """
            import json, os, signal, socket, subprocess, sys, time, urllib.request
            from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
            logs = sys.argv[1]
            acc = EventAccumulator(logs, size_guidance={"scalars": 0, "histograms": 0})
            acc.Reload()
            out = {"scalars": {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]},
                   "histograms": {t: [[e.step, e.histogram_value.num] for e in acc.Histograms(t)] for t in acc.Tags()["histograms"]}}
            # tensorboard --logdir serves the run: its HTTP API lists the scalars (loopback only, bounded wait).
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
            server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", logs, "--host", "127.0.0.1",
                                       "--port", str(port), "--load_fast", "false"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True)
            try:
                served = None
                for _ in range(120):
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/plugin/scalars/tags", timeout=2) as r:
                            served = json.load(r)
                        if served: break
                    except OSError:
                        pass
                    time.sleep(0.5)
                out["served"] = served
            finally:
                os.killpg(server.pid, signal.SIGKILL)  # the server's own process group, nothing else
                server.wait(timeout=30)
            print(json.dumps(out))
            """
        let output = try runPython(reader, arguments: [logs], interpreter: toolingPython)
        let read = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let scalars = try #require(read["scalars"] as? [String: [[Double]]])

        // Per epoch: the --json values, at each epoch's last step, across the resume.
        for (key, tag) in [("train_loss", "epoch/train_loss"), ("test_loss", "epoch/test_loss"), ("test_accuracy", "epoch/test_accuracy"),
                           ("samples_per_sec", "epoch/samples_per_sec"), ("learning_rate", "epoch/learning_rate")] {
            let logged = try #require(scalars[tag], "no \(tag) in \(scalars.keys.sorted())")
            #expect(logged.map { Int($0[0]) } == epochs.map { $0["steps"] as? Int ?? -1 }, "\(tag)")
            for (point, epoch) in zip(logged, epochs) {
                let expected = try #require(epoch[key] as? Double)
                #expect(abs(point[1] - expected) <= 1e-6 * max(1, abs(expected)), "\(tag): \(point[1]) vs \(expected)")
            }
        }
        // Per step: every step of the three epochs, its loss as --loss-log wrote it (first run) and the
        // learning rate of the cosine schedule with warm-up.
        let steps = try #require(scalars["step/loss"])
        #expect(steps.map { Int($0[0]) } == Array(1...24))
        for (point, line) in zip(steps, stepLosses) {
            #expect(Int(point[0]) == line["step"] as? Int)
            #expect(abs(point[1] - (line["loss"] as? Double ?? .nan)) <= 1e-6 * max(1, point[1]))
        }
        let rates = try #require(scalars["step/learning_rate"]).map { $0[1] }
        #expect(abs(rates[0] - 1e-3 / 3) < 1e-9 && abs(rates[2] - 1e-3) < 1e-9, "\(rates.prefix(4))")
        #expect(rates[15] < rates[5], "cosine decay: \(rates)")
        // Histograms of every parameter at every epoch.
        let histograms = try #require(read["histograms"] as? [String: [[Double]]])
        #expect(Set(histograms.keys) == ["parameters/1.weight", "parameters/1.bias", "parameters/3.weight", "parameters/3.bias"])
        #expect(histograms["parameters/1.weight"]?.map { $0[1] } == [784 * 256, 784 * 256, 784 * 256])
        // The server lists the run's scalars.
        let served = try #require(read["served"] as? [String: [String: Any]], "tensorboard did not serve the log folder")
        #expect(served["."]?.keys.contains("epoch/test_accuracy") == true, "\(served)")
    }
}
