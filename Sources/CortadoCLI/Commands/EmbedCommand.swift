import ArgumentParser
import CortadoTraining
import Foundation

/// `cortado embed`: sentence embeddings from a BERT-family model directory.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Print sentence embeddings (mean-pooled, L2-normalised) of texts, one JSON array per line.",
        discussion: """
            The model is a Hugging Face BERT-family directory (config.json, model.safetensors, vocab.txt); \
            by default all-MiniLM-L6-v2, which tools/setup fetches.

            A summary goes to standard error: the texts and tokens embedded, the time that took \
            (tokenizing and the model, not loading it, the span that PyTorch baselines time) and the \
            texts per second.

            Examples:
              cortado embed "A man is eating food." "A man is riding a horse."
              cortado embed --input texts.txt --device opencl --json
              cortado embed --input texts.txt --dtype bf16
            """)

    @Option(help: "A Hugging Face BERT-family model directory (default: <data dir>/models/all-MiniLM-L6-v2).")
    var model: String?

    @Option(help: "A UTF-8 file with one text per line (blank lines are skipped).")
    var input: String?

    @Argument(help: "Texts to embed.")
    var texts: [String] = []

    @Option(help: "Device: cpu, gpu[:N], opencl[:N], auto (or CORTADO_DEVICE).")
    var device: String?

    @Option(help: "Texts per batch (texts are grouped by length first).")
    var batchSize = 64

    @Option(help: "Longest token sequence, [CLS] and [SEP] included (default: the model's).")
    var maxLength: Int?

    @Option(help: "Precision the encoder runs in: fp32, bf16 or fp16 (its weights are converted once).")
    var dtype: Precision = .fp32

    @Flag(help: "Print one JSON object per text with its tokens and embedding.")
    var json = false

    func validate() throws {
        guard (input == nil) != texts.isEmpty else { throw ValidationError("give texts as arguments or --input FILE, not both") }
        if batchSize <= 0 || batchSize > 65536 { throw ValidationError("--batch-size must be between 1 and 65536, not \(batchSize)") }
        // An upper bound is the model's positions, checked when it is loaded.
        if let maxLength, maxLength < 2 { throw ValidationError("--max-length must be at least 2, not \(maxLength)") }
    }

    struct Line: Encodable {
        let text: String
        let tokens: [String]
        let embedding: [Float]
    }

    @OptionGroup var cpu: ThreadsOption

    @OptionGroup var weights: NonFiniteOption

    func run() throws {
        weights.apply()
        try cpu.apply()
        var inputs = texts
        if let input {
            // Blank and whitespace-only lines are skipped, as the help says.
            let reader = try TextLineReader(path: input)
            inputs = []
            while let line = try reader.next() {
                if !line.allSatisfy(\.isWhitespace) { inputs.append(line) }
            }
            guard !inputs.isEmpty else { throw ValidationError("\(input): no texts to embed (one text per line)") }
        }
        let device = try DeviceSelection.resolve(device.map { [$0] } ?? [])[0]
        let directory = try PretrainedModelDirectory(path: model ?? PretrainedModelDirectory.defaultPath)
        let loadStart = DispatchTime.now()
        let encoder = try SentenceEncoder(directory: directory, device: device, maxLength: maxLength, precision: dtype)
        let embedStart = DispatchTime.now()
        let encodings = try encoder.encode(inputs)
        let vectors = try encoder.embed(encodings: encodings, batchSize: batchSize)
        // NaN is not JSON, and no embedding: damaged weights (loaded with --allow-nonfinite) or an overflow.
        if let bad = vectors.firstIndex(where: { $0.contains { !$0.isFinite } }) {
            throw ValidationError("the model computed a non-finite embedding for text \(bad + 1) (\"\(inputs[bad].prefix(40))\"); its weights may be damaged")
        }
        let (loading, embedding) = (seconds(from: loadStart, to: embedStart), seconds(from: embedStart, to: .now()))
        var output = ""
        for (index, vector) in vectors.enumerated() {
            if json {
                output += try Terminal.jsonLine(Line(text: inputs[index], tokens: encodings[index].tokens, embedding: vector))
            } else {
                output += "[" + vector.map { "\($0)" }.joined(separator: ",") + "]"
            }
            output += "\n"
        }
        FileHandle.standardOutput.write(Data(output.utf8))
        let tokens = encodings.reduce(0) { $0 + $1.ids.count }
        let rate = String(format: "%.2f s: %.1f per second (model loaded in %.2f s)", embedding,
                          Double(vectors.count) / max(embedding, 1e-9), loading)
        let texts = vectors.count == 1 ? "1 text" : "\(vectors.count) texts"
        let summary = "embedded \(texts) (\(tokens) tokens) on \(device) in \(rate)\n"
        FileHandle.standardError.write(Data(summary.utf8))
    }

    private func seconds(from start: DispatchTime, to end: DispatchTime) -> Double {
        Double(end.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
