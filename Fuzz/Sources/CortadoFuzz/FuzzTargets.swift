import CortadoTraining
import Foundation

/// The parsers under test, by the name `CORTADO_FUZZ_TARGET` gives. Each takes one input and must
/// return normally or throw: any trap, hang or sanitizer report is a bug.
enum FuzzTarget: String, CaseIterable {
    /// A safetensors file (header, offsets, data) and the non-finite check of every tensor.
    case safetensors
    /// A Cortado checkpoint: safetensors plus its configuration, validated and built.
    case checkpoint
    /// The JSON of a checkpoint configuration alone, decoded and validated.
    case configuration
    /// An IDX file, raw or gzip-compressed (the reader inflates either).
    case idx
    /// A CSV or TSV table.
    case csv
    /// A Hugging Face `config.json`.
    case bertConfig = "bert-config"
    /// A WordPiece `vocab.txt`, then the tokenizer on text taken from the same bytes.
    case vocabulary
    /// The WordPiece tokenizer (a fixed vocabulary) on arbitrary text.
    case wordpiece
    /// A tuned kernel-parameter table.
    case tuned
    /// A text file read line by line (`predict --input`, `embed --input`).
    case lines

    /// A scratch file for parsers that read paths (one per process).
    static let scratch = URL(fileURLWithPath: NSTemporaryDirectory())
        .appendingPathComponent("cortado-fuzz-\(getpid())")

    /// Writes `data` to the scratch file under `name` and returns its path.
    static func file(_ data: Data, name: String) -> URL {
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let url = scratch.appendingPathComponent(name)
        FileManager.default.createFile(atPath: url.path, contents: data)
        return url
    }

    /// A small fixed vocabulary for the tokenizer target.
    static let tokenizer: WordPieceTokenizer? = try? WordPieceTokenizer(vocabulary: [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "film", "a", "##s", "##ly", "great", "é", "日", "本", ",", ".",
    ])

    /// Runs the parser on `data`; errors are the expected outcome for most inputs.
    func run(_ data: Data) throws {
        switch self {
        case .safetensors:
            let file = try SafeTensorsFile(contentsOf: Self.file(data, name: "model.safetensors"))
            for name in file.tensorNames { _ = try? file.rawTensor(name) }
            for info in file.tensors where info.dtype.cortadoDType?.isFloatingPoint == true { _ = try? file.floats(info.name) }
        case .checkpoint:
            let checkpoint = try ModelCheckpoint(contentsOf: Self.file(data, name: "checkpoint.safetensors"))
            // Building allocates what the validated configuration describes: bounded, but large
            // models are slow to build, so only small ones are built.
            if checkpoint.configuration.sampleShape.reduce(1, *) <= 4096, checkpoint.configuration.bert == nil {
                _ = try checkpoint.makeTrainedModel(device: .cpu)
            }
        case .configuration:
            let configuration = try JSONDecoder().decode(CheckpointConfiguration.self, from: data)
            try configuration.validate(url: URL(fileURLWithPath: "fuzz.json"))
        case .idx:
            let file = try IDXFile.read(path: Self.file(data, name: "data-idx").path)
            _ = file.floatValues().count
        case .csv:
            _ = try CSVTable.read(path: Self.file(data, name: "table.csv").path)
        case .bertConfig:
            _ = try BertConfig.load(contentsOf: Self.file(data, name: "config.json"))
        case .vocabulary:
            let tokenizer = try WordPieceTokenizer(contentsOf: Self.file(data, name: "vocab.txt"))
            _ = try tokenizer.encode(String(decoding: data.prefix(256), as: UTF8.self), maxLength: 64)
        case .wordpiece:
            _ = try Self.tokenizer?.encode(String(decoding: data, as: UTF8.self), maxLength: 128)
        case .tuned:
            let entry = try JSONDecoder().decode(TunedParameterStore.Entry.self, from: data)
            try entry.parameters.validate()
        case .lines:
            let reader = try TextLineReader(path: Self.file(data, name: "lines.txt").path)
            while try reader.next() != nil {}
        }
    }
}

/// The target this process fuzzes, from `CORTADO_FUZZ_TARGET`.
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["CORTADO_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let known = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("set CORTADO_FUZZ_TARGET to one of: \(known)\n".utf8))
        exit(2)
    }
    return target
}()

/// libFuzzer's entry point: one input per call.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = bytes.map { Data(bytes: $0, count: count) } ?? Data()
    _ = try? selectedTarget.run(data)
    return 0
}

/// libFuzzer's driver, for the entry point below.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The executable's entry point as SwiftPM names it (it links `main` to `<module>_main`): runs
/// libFuzzer's driver with the command line.
@_cdecl("CortadoFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { bytes, count in fuzzTestOneInput(bytes, count) }
}
