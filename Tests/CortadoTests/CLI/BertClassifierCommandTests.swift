import CortadoTraining
import Foundation
import Testing

/// `cortado train --model bert-classifier` end to end through the binary, on a tiny random BERT
/// directory and small separable CSV files.
@Suite("Command line: BERT fine-tuning")
struct BertClassifierCommandTests {
    @Test("fine-tunes a tiny BERT; eval on OpenCL reproduces it without the directory; predict classifies; resume continues")
    func trainEvalPredictResume() throws {
        let directory = try TemporaryDirectory()
        let model = try TinyBertDirectory.write(in: directory)
        let csv = try TextFixtures.sentimentCSV(in: directory, varyingLengths: true)
        let checkpoint = directory.file("bert.safetensors")
        let train = try Cortado.run(["train", "--model", "bert-classifier", "--init", model, "--data", csv, "--epochs", "6",
                                     "--batch-size", "16", "--lr", "1e-2", "--max-len", "10", "--device", "cpu", "--json",
                                     "--save", checkpoint])
        #expect(train.status == 0, "\(train.stderr)")
        let epochs = jsonLines(train.stdout)
        #expect(epochs.count == 6)
        let last = try #require(epochs.last)
        for key in ["test_accuracy", "test_precision", "test_recall", "test_f1", "samples_per_sec"] {
            #expect(last[key] != nil, "missing \(key)")
        }
        let accuracy = try #require(last["test_accuracy"] as? Double)
        #expect(accuracy >= 0.9, "separable data reached only \(accuracy)")
        #expect((last["learning_rate"] as? Double ?? 1) <= 1e-2 / 40, "the linear schedule decays to 0 over the 48 steps")

        // The checkpoint alone: the model directory is gone.
        try FileManager.default.removeItem(atPath: model)
        try expectEvalOnOpenCLReproduces(checkpoint, last)

        let predict = try Cortado.run(["predict", "--checkpoint", checkpoint, "--text", "the actors, lovely story music",
                                       "--text", "quite clumsy", "--json"])
        #expect(predict.status == 0, "\(predict.stderr)")
        let rows = jsonLines(predict.stdout)
        #expect(rows.map { $0["class_name"] as? String } == ["pos", "neg"])

        let resumed = try Cortado.run(["train", "--resume", checkpoint, "--epochs", "7", "--batch-size", "16", "--lr", "1e-2",
                                       "--device", "cpu", "--json", "--save", checkpoint])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let more = jsonLines(resumed.stdout)
        #expect(more.map { $0["epoch"] as? Int } == [7])
        #expect((more.first?["steps"] as? Int) == 7 * 8)
        #expect((more.first?["test_accuracy"] as? Double ?? 0) >= 0.9)

        expectFailure(try Cortado.run(["train", "--model", "lstm", "--resume", checkpoint, "--epochs", "8", "--device", "cpu"]),
                      mentioning: ["bert.safetensors", "bert-classifier", "lstm"])
        expectFailure(try Cortado.run(["eval", "--checkpoint", checkpoint, "--data", "fashion-mnist", "--device", "cpu"]),
                      mentioning: ["fashion-mnist"])
    }

    @Test("softmax over three classes")
    func threeClasses() throws {
        let directory = try TemporaryDirectory()
        let model = try TinyBertDirectory.write(in: directory)
        let tsv = try TextFixtures.threeClassTSV(in: directory)
        let checkpoint = directory.file("three.safetensors")
        let train = try Cortado.run(["train", "--model", "bert-classifier", "--init", model, "--data", tsv, "--epochs", "6",
                                     "--max-len", "8", "--batch-size", "8", "--lr", "1e-2", "--device", "cpu", "--json", "--save", checkpoint])
        #expect(train.status == 0, "\(train.stderr)")
        try TextFixtures.expectThreeClassModel(trainOutput: train.stdout, checkpoint: checkpoint)
    }

    @Test("bad input is a clean failure naming the problem", arguments: [
        "missing directory", "no config.json", "image data", "init with another model", "max-len too long",
    ])
    func badInput(_ problem: String) throws {
        let directory = try TemporaryDirectory()
        let csv = try TextFixtures.sentimentCSV(in: directory, rows: 20, varyingLengths: true)
        var arguments = ["train", "--model", "bert-classifier", "--data", csv, "--epochs", "1", "--device", "cpu"]
        let fragments: [String]
        switch problem {
        case "missing directory":
            arguments += ["--init", directory.file("nowhere")]
            fragments = ["nowhere", "config.json"]
        case "no config.json":
            arguments += ["--init", try TinyBertDirectory.write(in: directory, omitting: "config.json")]
            fragments = ["tiny-bert/config.json"]
        case "image data":
            arguments = ["train", "--model", "bert-classifier", "--init", try TinyBertDirectory.write(in: directory),
                         "--data", "fashion-mnist", "--epochs", "1", "--device", "cpu"]
            fragments = ["bert-classifier", "fashion-mnist", "text"]
        case "init with another model":
            arguments = ["train", "--model", "lstm", "--init", try TinyBertDirectory.write(in: directory), "--data", csv]
            fragments = ["--init", "bert-classifier", "lstm"]
        default:
            arguments += ["--init", try TinyBertDirectory.write(in: directory), "--max-len", "100"]
            fragments = ["--max-len", "100", "32"]
        }
        expectFailure(try Cortado.run(arguments), mentioning: fragments)
    }
}
