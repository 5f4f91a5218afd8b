import CortadoTraining
import Foundation
import Testing

/// The text models end to end through the `cortado` binary, on small labelled CSV files.
@Suite("Command line: text models")
struct TextCommandTests {
    @Test("lstm trains on a labelled CSV; eval on OpenCL reproduces it; predict classifies texts and files")
    func trainEvalPredict() throws {
        let directory = try TemporaryDirectory()
        let csv = try TextFixtures.sentimentCSV(in: directory)
        let checkpoint = directory.file("lstm.safetensors")
        let train = try Cortado.run(["train", "--model", "lstm", "--data", csv, "--max-len", "12", "--vocab-size", "40",
                                     "--epochs", "4", "--batch-size", "16", "--lr", "0.01", "--device", "cpu", "--json", "--save", checkpoint])
        #expect(train.status == 0, "\(train.stderr)")
        let epochs = jsonLines(train.stdout)
        #expect(epochs.count == 4)
        let last = try #require(epochs.last)
        for key in ["test_accuracy", "test_precision", "test_recall", "test_f1", "samples_per_sec"] {
            #expect(last[key] != nil, "missing \(key)")
        }
        let accuracy = try #require(last["test_accuracy"] as? Double)
        #expect(accuracy >= 0.9, "separable data reached only \(accuracy)")

        try expectEvalOnOpenCLReproduces(checkpoint, last)

        let predict = try Cortado.run(["predict", "--checkpoint", checkpoint, "--text", "the actors, lovely story music plot",
                                       "--text", "quite the, clumsy actors story music", "--json"])
        #expect(predict.status == 0, "\(predict.stderr)")
        let rows = jsonLines(predict.stdout)
        #expect(rows.map { $0["class_name"] as? String } == ["pos", "neg"])
        for row in rows {
            let probability = try #require(row["probability"] as? Double)
            #expect(probability > 0.5 && probability <= 1)
        }
        let plain = try Cortado.run(["predict", "--checkpoint", checkpoint, "--text", "the film, charming plot actors story"])
        #expect(plain.status == 0 && plain.stdout.contains("pos") && plain.stdout.contains("p = "), "\(plain.stdout)\(plain.stderr)")

        let file = try directory.write("texts.txt", text: "great music\nboring actors\nthe plot\n")
        let fromFile = try Cortado.run(["predict", "--checkpoint", checkpoint, "--input", file, "--json"])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(jsonLines(fromFile.stdout).count == 3)
    }

    @Test("gru trains and softmax is chosen for three classes")
    func gruThreeClasses() throws {
        let directory = try TemporaryDirectory()
        let tsv = try TextFixtures.threeClassTSV(in: directory)
        let checkpoint = directory.file("gru.safetensors")
        let train = try Cortado.run(["train", "--model", "gru", "--data", tsv, "--max-len", "4", "--epochs", "3",
                                     "--batch-size", "8", "--lr", "0.01", "--device", "opencl", "--json", "--save", checkpoint])
        #expect(train.status == 0, "\(train.stderr)")
        try TextFixtures.expectThreeClassModel(trainOutput: train.stdout, checkpoint: checkpoint)
    }

    @Test("bad text input is a clear error that overwrites nothing", arguments: [
        "unknown corpus", "missing column", "ragged row", "empty text", "one class",
    ])
    func badTextInput(_ problem: String) throws {
        let directory = try TemporaryDirectory()
        let checkpoint = try directory.write("keep.safetensors", text: "previous contents")
        var data: String
        var extra: [String] = []
        let fragments: [String]
        switch problem {
        case "unknown corpus":
            data = "imdb-reviews"
            fragments = ["imdb-reviews", "movie-snippets", "sms-spam", "trec"]
        case "missing column":
            data = try directory.write("columns.csv", text: "review,sentiment\ngood,1\nbad,0\n")
            extra = ["--text-column", "body"]
            fragments = ["columns.csv", "body", "review", "sentiment"]
        case "ragged row":
            data = try directory.write("ragged.csv", text: "text,label\ngood film,1\nbad film,0,extra\nfine,1\n")
            fragments = ["ragged.csv", "line 3"]
        case "empty text":
            data = try directory.write("empty.csv", text: "text,label\ngood film,1\n\"\",0\nfine,1\nbad,0\nok,1\n")
            fragments = ["empty.csv", "empty"]
        default:
            data = try directory.write("single.csv", text: "text,label\n" + (0..<10).map { "text \($0),yes" }.joined(separator: "\n") + "\n")
            fragments = ["single.csv", "class"]
        }
        let result = try Cortado.run(["train", "--model", "lstm", "--data", data, "--epochs", "1", "--device", "cpu",
                                      "--save", checkpoint] + extra)
        expectFailure(result, mentioning: fragments)
        #expect(try String(contentsOfFile: checkpoint, encoding: .utf8) == "previous contents")
    }

    @Test("a text checkpoint refuses data whose classes differ, image data, empty texts, and another model on resume")
    func mismatchedCheckpoint() throws {
        let directory = try TemporaryDirectory()
        let csv = try TextFixtures.sentimentCSV(in: directory, rows: 40)
        let checkpoint = directory.file("small.safetensors")
        let train = try Cortado.run(["train", "--model", "lstm", "--data", csv, "--max-len", "8", "--epochs", "1",
                                     "--batch-size", "8", "--device", "cpu", "--save", checkpoint])
        #expect(train.status == 0, "\(train.stderr)")

        let other = try directory.write("other.csv", text: "text,label\n" + (0..<20).map { "t \($0),\(["a", "b", "c"][$0 % 3])" }.joined(separator: "\n") + "\n")
        expectFailure(try Cortado.run(["eval", "--checkpoint", checkpoint, "--data", other, "--device", "cpu"]),
                      mentioning: ["classes", "neg", "pos", "a", "b", "c"])
        expectFailure(try Cortado.run(["eval", "--checkpoint", checkpoint, "--data", "fashion-mnist", "--device", "cpu"]),
                      mentioning: ["fashion-mnist"])
        expectFailure(try Cortado.run(["predict", "--checkpoint", checkpoint, "--text", "  "]), mentioning: ["empty"])
        expectFailure(try Cortado.run(["train", "--data", other, "--resume", checkpoint, "--epochs", "2", "--device", "cpu"]),
                      mentioning: ["classes", "other.csv"])
        expectFailure(try Cortado.run(["train", "--model", "gru", "--resume", checkpoint, "--epochs", "2", "--device", "cpu"]),
                      mentioning: ["small.safetensors", "lstm", "gru"])
    }
}
