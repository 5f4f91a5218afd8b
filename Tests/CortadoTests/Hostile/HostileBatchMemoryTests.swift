import CortadoTraining
import Foundation
import Testing

/// `--batch-size` values whose step cannot fit in memory: refused before the step allocates, with a
/// message naming the flag, the estimate, the bound and a batch that fits (issue 19). The budget
/// is lowered with `CORTADO_MEMORY_LIMIT`, so the refusals are cheap; the limits sit between the
/// library's estimates of a batch that fits and one that does not.
@Suite("Hostile input: batches that cannot fit in memory")
struct HostileBatchMemoryTests {
    /// 16×16 images: large enough for the cnn, small enough to train in a moment.
    static let sampleShape = [1, 16, 16]

    /// An MNIST-format directory of `train` and `test` 16×16 images in 3 classes; returns its path.
    static func images(in directory: TemporaryDirectory, train: Int, test: Int) throws -> String {
        let data = try TemporaryDirectory()
        let labels = { (count: Int) in (0..<count).map { UInt8($0 % 3) } }
        try data.write("train-images-idx3-ubyte", IDXBytes.images(count: train, rows: 16, columns: 16))
        try data.write("train-labels-idx1-ubyte", IDXBytes.labels(labels(train)))
        try data.write("t10k-images-idx3-ubyte", IDXBytes.images(count: test, rows: 16, columns: 16))
        try data.write("t10k-labels-idx1-ubyte", IDXBytes.labels(labels(test)))
        let path = directory.file("images")
        try FileManager.default.copyItem(atPath: data.path, toPath: path)
        return path
    }

    /// A limit halfway between the estimates of `fits` and `refused` samples.
    static func limit(_ step: StepMemory, fits: Int, refused: Int) -> [String: String] {
        ["CORTADO_MEMORY_LIMIT": String(Int((step.bytes(batch: fits) + step.bytes(batch: refused)) / 2))]
    }

    /// The batch size the refusal advises (`use --batch-size N or less`).
    static func advised(_ message: String) -> Int? {
        guard let range = message.range(of: "use --batch-size ") else { return nil }
        return Int(message[range.upperBound...].prefix { $0.isNumber })
    }

    @Test("the profiles count the parameters of every built-in model as it is built")
    func parameterCounts() throws {
        let cases: [(BuiltinModel, [Int], Int?)] = [
            (.linear, [5], nil), (.mlp, [1, 6, 4], nil), (.cnn, [3, 9, 7], nil), (.lenet, [1, 28, 28], nil),
            (.lstm, [12], 40), (.gru, [12], 40),
        ]
        for (model, shape, vocabulary) in cases {
            let built = try model.make(sampleShape: shape, outputs: 3, vocabulary: vocabulary)
            let profile = try ActivationProfile(model: model, sampleShape: shape, outputs: 3, vocabulary: vocabulary)
            #expect(profile.parameters == Double(built.parameterCount), "\(model)")
        }
        let pruned = try BuiltinModel.cnn.make(sampleShape: [1, 16, 16], outputs: 2, widths: [5, 7])
        #expect(try ActivationProfile(model: .cnn, sampleShape: [1, 16, 16], outputs: 2, widths: [5, 7]).parameters
            == Double(pruned.parameterCount))
    }

    @Test("train refuses a --batch-size whose step cannot fit before it trains; the advised batch trains, with the same numbers as without the check")
    func train() throws {
        let directory = try TemporaryDirectory()
        let data = try Self.images(in: directory, train: 48, test: 6)
        let step = StepMemory.training(try ActivationProfile(model: .cnn, sampleShape: Self.sampleShape, outputs: 3))
        let environment = Self.limit(step, fits: 8, refused: 48)
        let arguments = ["train", "--model", "cnn", "--data", data, "--epochs", "1", "--device", "cpu", "--json", "--seed", "5"]

        let refused = try Cortado.run(arguments + ["--batch-size", "48"], environment: environment)
        expectFailure(refused, mentioning: ["--batch-size 48 needs about", "for a training step of cnn", "CORTADO_MEMORY_LIMIT", "use --batch-size"])
        #expect(refused.stdout.isEmpty, "nothing was trained: \(refused.stdout)")
        let advised = try #require(Self.advised(refused.stderr))
        #expect(advised >= 8 && advised < 48)

        // The batch the loader forms counts: a huge --batch-size over 4 samples is a batch of 4.
        let few = try Cortado.run(arguments + ["--batch-size", "1000000", "--limit", "4"], environment: environment)
        #expect(few.status == 0, "\(few.stderr)")

        let accepted = try Cortado.run(arguments + ["--batch-size", "\(advised)"], environment: environment)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        let unchecked = try Cortado.run(arguments + ["--batch-size", "\(advised)"])
        #expect(unchecked.status == 0, "\(unchecked.stderr)")
        let losses = [accepted, unchecked].map { jsonLines($0.stdout).first?["train_loss"] as? Double }
        #expect(losses[0] != nil && losses[0] == losses[1], "the check changes no number: \(losses)")
    }

    @Test("eval refuses a --batch-size whose pass cannot fit; a smaller one evaluates")
    func eval() throws {
        let directory = try TemporaryDirectory()
        let data = try Self.images(in: directory, train: 8, test: 12)
        let checkpoint = directory.file("cnn.safetensors")
        let trained = try Cortado.run(["train", "--model", "cnn", "--data", data, "--epochs", "1", "--batch-size", "4",
                                       "--device", "cpu", "--save", checkpoint])
        #expect(trained.status == 0, "\(trained.stderr)")
        let step = StepMemory.inference(try ActivationProfile(model: .cnn, sampleShape: Self.sampleShape, outputs: 3))
        let environment = Self.limit(step, fits: 2, refused: 12)
        let arguments = ["eval", "--checkpoint", checkpoint, "--data", data, "--device", "cpu", "--json"]

        let refused = try Cortado.run(arguments + ["--batch-size", "500"], environment: environment)
        expectFailure(refused, mentioning: ["--batch-size 500 (12 samples, all there are) needs about", "evaluating cnn", "use --batch-size"])
        #expect(refused.stdout.isEmpty)
        let accepted = try Cortado.run(arguments + ["--batch-size", "2"], environment: environment)
        #expect(accepted.status == 0, "\(accepted.stderr)")
    }

    @Test("embed refuses a --batch-size whose pass cannot fit; a smaller one embeds")
    func embed() throws {
        let directory = try TemporaryDirectory()
        let model = try TinyBertDirectory.write(in: directory)
        let texts = ["the film was great", "a really dull plot", "the actors", "music", "quite a lovely story", "awful"]
        let encoder = try SentenceEncoder(directory: PretrainedModelDirectory(path: model), device: .cpu)
        let longest = try encoder.encode(texts).map(\.ids.count).max() ?? 0
        let step = StepMemory.inference(ActivationProfile(bert: TinyBertDirectory.architecture, length: longest, outputs: 0))
        let environment = Self.limit(step, fits: 1, refused: texts.count)
        let arguments = ["embed", "--model", model, "--device", "cpu"] + texts

        let refused = try Cortado.run(arguments + ["--batch-size", "64"], environment: environment)
        expectFailure(refused, mentioning: ["--batch-size 64 (6 samples, all there are) needs about", "embedding texts", "use --batch-size"])
        #expect(refused.stdout.isEmpty)
        let accepted = try Cortado.run(arguments + ["--batch-size", "1"], environment: environment)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(accepted.stdout.split(separator: "\n").count == texts.count)
    }

    @Test("the estimate of a training step bounds the allocator's measured peak and its growth per sample (cnn, lstm)")
    func estimateBoundsPeak() throws {
        let directory = try TemporaryDirectory()
        let images = try Self.images(in: directory, train: 256, test: 4)
        let csv = try TextFixtures.sentimentCSV(in: directory, rows: 320)
        let runs: [(arguments: [String], profile: ActivationProfile, batches: [Int])] = [
            (["--model", "cnn", "--data", images], try ActivationProfile(model: .cnn, sampleShape: Self.sampleShape, outputs: 3), [64, 256]),
            (["--model", "lstm", "--data", csv, "--max-len", "12", "--vocab-size", "40"],
             try ActivationProfile(model: .lstm, sampleShape: [12], outputs: 1, vocabulary: 40), [32, 128]),
        ]
        for run in runs {
            let step = StepMemory.training(run.profile)
            var peaks: [Double] = []
            for batch in run.batches {
                let result = try Cortado.run(["train"] + run.arguments + ["--epochs", "1", "--batch-size", "\(batch)", "--device", "cpu", "--json"])
                #expect(result.status == 0, "\(result.stderr)")
                let peak = try #require(jsonLines(result.stdout).first?["peak_device_bytes"] as? Int)
                #expect(peak > 0 && Double(peak) <= step.bytes(batch: batch), "\(run.arguments[1]) batch \(batch): measured peak \(peak) B, estimate \(Int(step.bytes(batch: batch))) B")
                peaks.append(Double(peak))
            }
            // The fixed allowance must not hide an optimistic count per sample.
            let perSample = (peaks[1] - peaks[0]) / Double(run.batches[1] - run.batches[0])
            #expect(perSample <= step.bytesPerSample, "\(run.arguments[1]): measured \(Int(perSample)) B a sample, estimate \(Int(step.bytesPerSample)) B")
        }
    }
}
