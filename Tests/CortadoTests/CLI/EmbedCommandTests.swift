import CortadoTraining
import Foundation
import Testing

/// `cortado embed` on the real all-MiniLM-L6-v2, against the reference fixture.
@Suite("Command line: embed")
struct EmbedCommandTests {
    func arrays(_ text: String) -> [[Float]] {
        text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Double])?.map { Float($0) }
        }
    }

    @Test("embed prints the reference embeddings in input order, on cpu and opencl, from arguments and files")
    func embeddings() throws {
        let fixture = try MiniLMFixture.load()
        let model = try RealModel.directory().url.path
        // Reference texts embedded at the model's own maximum length (not the truncation cases).
        let references = fixture.texts.filter { $0.maxLength >= 128 }.prefix(4)
        try #require(references.count == 4)
        let directory = try TemporaryDirectory()
        let file = try directory.write("texts.txt", text: references.map(\.text).joined(separator: "\n") + "\n")
        for device in ["cpu", "opencl"] {
            // Batch size 3 splits the (length-sorted) texts into two batches with padding.
            let fromArguments = try Cortado.run(["embed", "--model", model, "--device", device, "--batch-size", "3"]
                                                + references.map(\.text))
            #expect(fromArguments.status == 0, "\(fromArguments.stderr)")
            let fromFile = try Cortado.run(["embed", "--model", model, "--device", device, "--input", file])
            #expect(fromFile.status == 0, "\(fromFile.stderr)")
            for output in [fromArguments.stdout, fromFile.stdout] {
                let vectors = arrays(output)
                #expect(vectors.count == references.count)
                for (vector, reference) in zip(vectors, references) {
                    assertClose(vector, reference.embedding, rtol: 1e-4, atol: 1e-4, "\(device): \(reference.text)")
                }
            }
        }
    }

    @Test("--json adds the text and its word pieces; a summary goes to stderr")
    func json() throws {
        let model = try RealModel.directory().url.path
        let result = try Cortado.run(["embed", "--model", model, "--device", "cpu", "--json", "unaffable café"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["text"] as? String == "unaffable café")
        let tokens = try #require(object["tokens"] as? [String])
        #expect(tokens.first == "[CLS]" && tokens.last == "[SEP]" && tokens.contains("cafe"))
        #expect((object["embedding"] as? [Double])?.count == 384)
        // The summary goes to stderr, so stdout stays one JSON object per text.
        #expect(result.stderr.contains("embedded 1 text (\(tokens.count) tokens) on cpu in "), "\(result.stderr)")
    }

    @Test("bad input: a missing model directory, no texts, both texts and a file, a bad maximum length")
    func badInput() throws {
        let directory = try TemporaryDirectory()
        let missing = try Cortado.run(["embed", "--model", directory.file("nowhere"), "hello"])
        expectFailure(missing, mentioning: ["nowhere"])
        expectFailure(try Cortado.run(["embed"]), mentioning: ["--input"])
        let file = try directory.write("texts.txt", text: "hello\n")
        expectFailure(try Cortado.run(["embed", "--input", file, "hello"]), mentioning: ["not both"])
        let empty = try directory.write("empty.txt", text: "\n\n")
        expectFailure(try Cortado.run(["embed", "--input", empty]), mentioning: ["empty.txt", "no texts"])
        let model = try RealModel.directory().url.path
        expectFailure(try Cortado.run(["embed", "--model", model, "--max-length", "100000", "hello"]), mentioning: ["512"])
    }
}
