import Foundation

/// A safetensors file read into memory and checked: its tensors' names, types, shapes and bytes,
/// and its string metadata.
///
/// Reading checks everything before returning (see ``init(contentsOf:maximumFileSize:maximumHeaderSize:)``),
/// so a damaged or foreign file is a thrown ``CheckpointError`` naming the file and the problem,
/// never a crash.
///
/// ```swift
/// let file = try SafeTensorsFile(contentsOf: url)
/// let weight = try file.tensor("fc.weight", shape: [10, 784], device: .cpu)
/// print(file.metadata["epoch"] ?? "?")
/// ```
public struct SafeTensorsFile: Sendable {
    /// The largest file read by default: 4 GiB.
    public static let defaultMaximumFileSize = 4 << 30
    /// The largest JSON header read by default: 100 MB, the reference implementation's limit.
    public static let defaultMaximumHeaderSize = 100_000_000

    /// Where the file was read from.
    public let url: URL
    /// The `__metadata__` strings (empty when the file has none).
    public let metadata: [String: String]
    /// Every tensor's entry, in the order of their data in the file (then by name).
    public let tensors: [SafeTensorInfo]

    private let contents: [UInt8]
    private let dataSectionStart: Int
    private let entriesByName: [String: SafeTensorInfo]

    /// Reads and checks the file at `url`.
    ///
    /// Checks: the file exists, is readable and at most `maximumFileSize` bytes; it has the 8-byte
    /// little-endian header length; the header fits in the file and in `maximumHeaderSize`, is
    /// UTF-8 JSON and an object; each tensor has a known dtype, a shape of non-negative integers
    /// and `data_offsets` inside the data section whose length matches the shape; tensors do not
    /// overlap; `__metadata__` holds only strings.
    /// - Throws: ``CheckpointError`` naming the file and the first problem found.
    public init(
        contentsOf url: URL, maximumFileSize: Int = defaultMaximumFileSize,
        maximumHeaderSize: Int = defaultMaximumHeaderSize
    ) throws {
        let contents = try CheckpointFileSystem.readWholeFile(url, limit: maximumFileSize)
        guard contents.count >= 8 else {
            throw CheckpointError(url, contents.isEmpty
                ? "not a safetensors file (the file is empty)"
                : "not a safetensors file (\(contents.count) bytes, too short for the 8-byte header length)")
        }
        let declared = contents.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let available = contents.count - 8
        let looksLikeHeader = contents.count > 8 && contents[8] == UInt8(ascii: "{")
        guard declared <= UInt64(maximumHeaderSize) else {
            throw CheckpointError(url, "not a safetensors file (header length \(declared) exceeds the "
                                  + "\(maximumHeaderSize)-byte limit)")
        }
        guard declared <= UInt64(available) else {
            throw CheckpointError(url, looksLikeHeader
                ? "truncated: the header length says \(declared) bytes but only \(available) follow it"
                : "not a safetensors file (header length \(declared) exceeds the file, which has \(available) bytes after it)")
        }
        let headerLength = Int(declared)
        let dataSectionStart = 8 + headerLength
        let header = try SafeTensorsHeaderParsing.parse(
            Array(contents[8..<dataSectionStart]), dataSectionSize: contents.count - dataSectionStart, url: url)

        self.url = url
        self.contents = contents
        self.dataSectionStart = dataSectionStart
        self.metadata = header.metadata
        self.tensors = header.tensors
        self.entriesByName = Dictionary(header.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The tensors' names, in the order of their data in the file.
    public var tensorNames: [String] { tensors.map(\.name) }

    /// The entry for `name`, or `nil` when the file has no such tensor.
    public func info(_ name: String) -> SafeTensorInfo? {
        entriesByName[name]
    }

    /// The entry for `name`.
    /// - Throws: ``CheckpointError`` listing the tensors the file has when it has no tensor `name`.
    public func requireInfo(_ name: String) throws -> SafeTensorInfo {
        guard let entry = entriesByName[name] else {
            let names = tensorNames
            let listed = names.prefix(12).map { "'\($0)'" }.joined(separator: ", ")
            let more = names.count > 12 ? ", …" : ""
            throw CheckpointError(url, names.isEmpty
                ? "no tensor named '\(name)' (the file has no tensors)"
                : "no tensor named '\(name)' (the file has \(names.count): \(listed)\(more))")
        }
        return entry
    }

    /// The tensor `name` with its raw little-endian bytes.
    public func rawTensor(_ name: String) throws -> SafeTensor {
        let entry = try requireInfo(name)
        return try SafeTensor(name: name, dtype: entry.dtype, shape: entry.shape, bytes: Array(bytes(of: entry)))
    }

    /// The raw bytes of a checked entry of this file.
    func bytes(of entry: SafeTensorInfo) -> ArraySlice<UInt8> {
        contents[(dataSectionStart + entry.dataOffsets.lowerBound)..<(dataSectionStart + entry.dataOffsets.upperBound)]
    }
}
