import ArgumentParser
import Cortado
import CortadoTraining
import Foundation

/// What `cortado embed --quantize` turns the encoder's Linear layers into.
enum EmbedQuantization: String, ExpressibleByArgument, CaseIterable {
    /// int8 weights, activations quantised per row at run time.
    case int8
}

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
              cortado embed --input texts.txt --quantize int8 --compare
              cortado embed --input texts.txt --quantize int8 --calibration-input train.txt
              cortado embed --input texts.txt --quantize int8 --scheme q8_0

            With --quantize int8 the Linear layers compute in int8 (activations quantised per row at run \
            time), except those --keep-float names; the summary says which stayed float. By default the \
            weights have one scale per output channel (per-channel), the feed-forward output layers one \
            per 32 values (q8_0, with the activations likewise), and SmoothQuant's smoothing with \
            strength 0.6: the float encoder first embeds --calibrate N texts (of --calibration-input, \
            else texts of random vocabulary words, so that no data is needed) and each layer's input \
            columns that reach large values hand part of their range to the weight. --scheme S puts every \
            layer in S, unsmoothed unless --smooth A is given. --compare also embeds the texts in float32 \
            in the same run (rounds interleaved) and reports the cosine of each int8 embedding to its \
            float32 one (minimum and mean) and both rates.
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

    @Option(help: "Quantise the encoder's Linear layers: int8.")
    var quantize: EmbedQuantization?

    @Option(help: "With --quantize: every layer's scheme, q8_0 (one scale per 32 values, activations likewise) or per-channel (faster, less accurate), unsmoothed unless --smooth (default: per-channel, q8_0 feed-forward outputs, --smooth 0.6).")
    var scheme: QuantizationScheme?

    @Option(help: "With --quantize: the scheme of the feed-forward output layers when not kept float (default: q8_0, or --scheme when given).")
    var ffnScheme: QuantizationScheme?

    @Option(help: "With --quantize: layers kept float: none, ffn-output (each layer's second feed-forward Linear), or comma-separated dotted names.")
    var keepFloat = "none"

    @Option(help: "With --quantize: SmoothQuant's smoothing with this migration strength in [0, 1] (default 0.6 without --scheme, none with it).")
    var smooth: Float?

    @Option(help: "With smoothing: a file of calibration texts, one per line (default: 512 texts of random vocabulary words).")
    var calibrationInput: String?

    @Option(help: "With smoothing: how many calibration texts to run (the first N; default 512).")
    var calibrate: Int?

    @Flag(help: "With --quantize: also embed in float32 in the same run and report cosine and speed against it.")
    var compare = false

    @Option(help: "With --compare: timed rounds of each, interleaved (medians reported).")
    var rounds = 3

    func validate() throws {
        guard (input == nil) != texts.isEmpty else { throw ValidationError("give texts as arguments or --input FILE, not both") }
        if batchSize <= 0 || batchSize > 65536 { throw ValidationError("--batch-size must be between 1 and 65536, not \(batchSize)") }
        // An upper bound is the model's positions, checked when it is loaded.
        if let maxLength, maxLength < 2 { throw ValidationError("--max-length must be at least 2, not \(maxLength)") }
        if quantize != nil && dtype != .fp32 { throw ValidationError("--quantize int8 computes activations in float32; drop --dtype \(dtype)") }
        if compare && quantize == nil { throw ValidationError("--compare compares an int8 encoder with float32: add --quantize int8") }
        if rounds < 1 { throw ValidationError("--rounds must be at least 1, not \(rounds)") }
        if quantize == nil, let flag = [(scheme != nil, "--scheme"), (ffnScheme != nil, "--ffn-scheme"), (smooth != nil, "--smooth"),
                                        (calibrationInput != nil, "--calibration-input"), (calibrate != nil, "--calibrate")]
            .first(where: \.0)?.1 {
            throw ValidationError("\(flag) shapes an int8 encoder: add --quantize int8")
        }
        try int8Flags.validate()
    }

    private var int8Flags: EncoderQuantizationFlags {
        EncoderQuantizationFlags(scheme: scheme, ffnScheme: ffnScheme, smooth: smooth, calibrationInput: calibrationInput, calibrate: calibrate)
    }

    /// Quantises `encoder` as the flags say; returns the summary line.
    private func quantized(_ encoder: SentenceEncoder) throws -> String {
        let names = Set(encoder.model.quantizableLayers().map(\.name))
        let kept: @Sendable (String) -> Bool
        switch keepFloat {
        case "ffn-output": kept = SentenceEncoder.isFeedForwardOutput
        case "none", "": kept = { _ in false }
        default:
            let list = Set(keepFloat.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            if let unknown = list.subtracting(names).sorted().first {
                throw ValidationError("--keep-float: the encoder has no Linear layer '\(unknown)'")
            }
            kept = { list.contains($0) }
        }
        let recipe = try int8Flags.recipe(keepingFloat: kept)
        let record = try encoder.quantize(recipe, batchSize: batchSize)
        return "int8: \(record.int8Layers.count) Linear layers (\(EncoderQuantizationFlags.summary(record, recipe: recipe))); float: "
            + (record.floatLayers.isEmpty ? "none" : record.floatLayers.joined(separator: ", "))
    }

    struct Line: Encodable {
        let text: String
        let tokens: [String]
        let embedding: [Float]
    }

    @OptionGroup var cpu: ThreadsOption

    @OptionGroup var weights: NonFiniteOption

    @OptionGroup var profiling: ProfileOption

    func run() throws {
        weights.apply()
        try cpu.apply()
        let profiler = try profiling.start(install: false)
        var profiledDevices: [Device] = []
        defer { profiling.finish(profiler, devices: profiledDevices, process: "cortado embed") }
        var inputs = texts
        if let input { inputs = try TextLineReader.nonBlankLines(path: input) }
        let device = try DeviceSelection.resolve(device.map { [$0] } ?? [])[0]
        let directory = try PretrainedModelDirectory(path: model ?? PretrainedModelDirectory.defaultPath)
        let loadStart = DispatchTime.now()
        let encoder = try SentenceEncoder(directory: directory, device: device, maxLength: maxLength, precision: dtype)
        let layers = quantize == nil ? nil : try quantized(encoder)
        profiledDevices = [device]
        if let profiler { Profiler.current = profiler }
        let embedStart = DispatchTime.now()
        let encodings = try encoder.encode(inputs)
        try encoder.requireMemory(embedding: encodings, batchSize: batchSize)
        var vectors = try profiled("embed", category: "embed") { try encoder.embed(encodings: encodings, batchSize: batchSize) }
        let loading = seconds(from: loadStart, to: embedStart)
        var embedding = seconds(from: embedStart, to: .now())
        var comparison: String?
        if compare {
            let reference = try SentenceEncoder(directory: directory, device: device, maxLength: maxLength, precision: .fp32)
            var (floatTimes, int8Times) = ([Double](), [Double]())
            var floats: [[Float]] = []
            for _ in 0..<rounds {
                let floatStart = DispatchTime.now()
                floats = try reference.embed(encodings: try reference.encode(inputs), batchSize: batchSize)
                floatTimes.append(seconds(from: floatStart, to: .now()))
                let int8Start = DispatchTime.now()
                vectors = try encoder.embed(encodings: try encoder.encode(inputs), batchSize: batchSize)
                int8Times.append(seconds(from: int8Start, to: .now()))
            }
            func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
            embedding = median(int8Times)
            let cosines = zip(vectors, floats).map { a, b in zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
            let (floatRate, int8Rate) = (Double(inputs.count) / median(floatTimes), Double(inputs.count) / embedding)
            comparison = String(
                format: "cosine to float32: min %.4f, mean %.4f over %d texts; float32 %.1f texts/s, int8 %.1f texts/s: %.2f× (medians of %d interleaved rounds)\n",
                cosines.min() ?? 0, cosines.reduce(0, +) / Double(max(cosines.count, 1)), cosines.count, floatRate, int8Rate,
                int8Rate / floatRate, rounds)
        }
        // NaN is not JSON, and no embedding: damaged weights (loaded with --allow-nonfinite) or an overflow.
        if let bad = vectors.firstIndex(where: { $0.contains { !$0.isFinite } }) {
            throw ValidationError("the model computed a non-finite embedding for text \(bad + 1) (\"\(inputs[bad].prefix(40))\"); its weights may be damaged")
        }
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
        var summary = "embedded \(texts) (\(tokens) tokens) on \(device) in \(rate)\n"
        if let layers { summary += layers + "\n" }
        if let comparison { summary += comparison }
        FileHandle.standardError.write(Data(summary.utf8))
    }

    private func seconds(from start: DispatchTime, to end: DispatchTime) -> Double {
        Double(end.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
