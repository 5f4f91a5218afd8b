import Foundation
import Testing

/// `--micro-batch`: a step's batch in several forward and backward passes whose gradients add up.
@Suite("Micro-batches (gradient accumulation within a step)")
struct MicroBatchTests {
    /// Trains with `arguments`, once whole and once with `--micro-batch micro`; returns each run's
    /// per-step losses and last epoch report.
    func bothRuns(_ arguments: [String], micro: Int, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> (whole: [Float], split: [Float], wholeReport: [String: Any], splitReport: [String: Any])
    {
        let directory = try TemporaryDirectory()
        let common = ["train", "--threads", "1", "--json", "--seed", "3"] + arguments
        let whole = try Cortado.run(common + ["--loss-log", directory.file("whole.jsonl")])
        #expect(whole.status == 0, "\(whole.stderr)", sourceLocation: sourceLocation)
        let split = try Cortado.run(common + ["--micro-batch", String(micro), "--loss-log", directory.file("split.jsonl")])
        #expect(split.status == 0, "\(split.stderr)", sourceLocation: sourceLocation)
        func losses(_ name: String) throws -> [Float] {
            try jsonLines(String(contentsOf: directory.fileURL(name), encoding: .utf8)).compactMap { ($0["loss"] as? Double).map(Float.init) }
        }
        return (try losses("whole.jsonl"), try losses("split.jsonl"),
                try #require(jsonLines(whole.stdout).last, sourceLocation: sourceLocation),
                try #require(jsonLines(split.stdout).last, sourceLocation: sourceLocation))
    }

    @Test("cnn: passes of 24 rows (24 + 24 + 16 of 64) take the same steps as whole batches, with less memory",
          arguments: ["cpu", "opencl"])
    func cnnSameSteps(device: String) throws {
        let runs = try bothRuns(["--model", "cnn", "--batch-size", "64", "--limit", "640", "--epochs", "1", "--device", device], micro: 24)
        #expect(runs.whole.count == 10)
        assertClose(runs.split, runs.whole, rtol: 1e-5, atol: 0, "per-step losses")
        let accuracy = try #require(runs.wholeReport["test_accuracy"] as? Double)
        #expect(abs((runs.splitReport["test_accuracy"] as? Double ?? 0) - accuracy) <= 0.002)
        let wholePeak = try #require(runs.wholeReport["peak_device_bytes"] as? Int)
        let splitPeak = try #require(runs.splitReport["peak_device_bytes"] as? Int)
        #expect(splitPeak < wholePeak * 17 / 20, "peak \(splitPeak) bytes in passes of 24 against \(wholePeak) whole")
    }

    @Test("lstm with dropout: each sample keeps the mask it gets in the whole batch")
    func lstmDropoutMasks() throws {
        let runs = try bothRuns(["--model", "lstm", "--data", "movie-snippets", "--max-len", "16", "--batch-size", "32",
                                 "--limit", "320", "--epochs", "1", "--device", "cpu"], micro: 5)
        #expect(runs.whole.count == 10)
        assertClose(runs.split, runs.whole, rtol: 1e-5, atol: 0, "per-step losses")
    }

    @Test("bert-classifier: passes pad to the whole batch's longest row and redraw each layer's two dropout masks")
    func bertPassesMatch() throws {
        let runs = try bothRuns(["--model", "bert-classifier", "--data", "trec", "--batch-size", "32", "--limit", "64",
                                 "--epochs", "1", "--device", "cpu"], micro: 12)
        #expect(runs.whole.count == 2)
        assertClose(runs.split, runs.whole, rtol: 1e-5, atol: 0, "per-step losses")
    }

    @Test("--micro-batch must be a positive number of samples", arguments: ["0", "-3"])
    func refusesNonPositive(value: String) throws {
        expectFailure(try Cortado.run(["train", "--model", "mlp", "--epochs", "1", "--micro-batch", value]),
                      mentioning: ["--micro-batch", "positive"])
    }
}
