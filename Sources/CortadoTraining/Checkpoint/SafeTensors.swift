import Foundation

/// Reads and writes safetensors files (Hugging Face's format, which Python's `safetensors` and
/// NumPy read): an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
/// shape and byte range, then the tensors' little-endian, row-major bytes.
///
/// Files are deterministic: the same tensors and metadata give the same bytes. The header holds
/// `__metadata__` first (keys sorted), then the tensors; tensors keep the order given except that
/// wider element types come first (a stable sort by element size, as the reference writer does),
/// so every tensor's data is aligned to its element size. The header is padded with spaces to a
/// multiple of 8 bytes.
///
/// Writes go to a temporary file in the destination's directory that is renamed over the
/// destination only when complete, so a failed or interrupted write never leaves a partial file
/// there and an existing file stays intact until then.
public enum SafeTensors {
    /// Writes `tensors` and `metadata` to `url`, replacing any file there only once all is written.
    /// - Throws: ``CheckpointError`` naming `url`: a name repeated or equal to `__metadata__`, a
    ///   missing or unwritable directory, a failed write.
    public static func write(_ tensors: [SafeTensor], metadata: [String: String] = [:], to url: URL) throws {
        try write(pending: tensors.map(PendingSafeTensor.init), metadata: metadata, to: url)
    }

    /// Writes tensors whose bytes are produced one at a time, as the writer reaches each.
    ///
    /// The header is written first from the names, dtypes and shapes; then each tensor's `bytes`
    /// closure is called in turn. When a closure throws or returns the wrong number of bytes, the
    /// write stops, the temporary file is removed and the destination keeps its old contents.
    /// - Throws: ``CheckpointError`` naming `url`.
    public static func write(pending tensors: [PendingSafeTensor], metadata: [String: String] = [:], to url: URL) throws {
        let layout = try SafeTensorsLayout(tensors, url: url)
        let header = SafeTensorsHeaderEncoding.header(for: layout.entries, metadata: metadata)
        try CheckpointFileSystem.writeAtomically(to: url) { file in
            try file.append(littleEndianBytes([UInt64(header.count)]))
            try file.append(header)
            for (tensor, entry) in zip(layout.ordered, layout.entries) {
                let bytes: [UInt8]
                do {
                    bytes = try tensor.bytes()
                } catch {
                    throw CheckpointError(url, "cannot write tensor '\(tensor.name)': getting its values failed: \(error)")
                }
                guard bytes.count == entry.dataOffsets.count else {
                    throw CheckpointError(url, "cannot write tensor '\(tensor.name)': shape \(tensor.shape) of "
                                          + "\(tensor.dtype) needs \(entry.dataOffsets.count) bytes but \(bytes.count) were given")
                }
                try file.append(bytes)
            }
        }
    }

    /// Reads and checks the safetensors file at `url` (see ``SafeTensorsFile``).
    public static func read(_ url: URL) throws -> SafeTensorsFile {
        try SafeTensorsFile(contentsOf: url)
    }

    /// Throws unless a file can be written at `url`; call it before a long training run so that a
    /// wrong checkpoint path fails at once rather than after the first epoch.
    ///
    /// It checks that the directory exists, that `url` is not a directory, and that the directory
    /// accepts new files by creating and removing a hidden probe file there. It never changes an
    /// existing file at `url`. Permission bits do not stop the root user, so as root only a
    /// read-only file system or a missing directory fails.
    /// - Throws: ``CheckpointError`` naming `url` and the problem.
    public static func checkWritable(_ url: URL) throws {
        try CheckpointFileSystem.checkWritable(url)
    }
}

/// Where each tensor goes in the data section: the checked, ordered entries of a file to write.
struct SafeTensorsLayout {
    /// The tensors in the order they are written.
    let ordered: [PendingSafeTensor]
    /// Their header entries, in the same order.
    let entries: [SafeTensorInfo]

    /// Checks names and shapes and lays the tensors out, widest element type first.
    init(_ tensors: [PendingSafeTensor], url: URL) throws {
        var seen = Set<String>()
        for tensor in tensors {
            guard tensor.name != SafeTensorsHeaderParsing.metadataKey else {
                throw CheckpointError(url, "cannot write a tensor named '__metadata__': the name is reserved for metadata")
            }
            guard seen.insert(tensor.name).inserted else {
                throw CheckpointError(url, "cannot write two tensors named '\(tensor.name)'")
            }
        }
        ordered = tensors.enumerated()
            .sorted { ($1.element.dtype.byteSize, $0.offset) < ($0.element.dtype.byteSize, $1.offset) }
            .map(\.element)
        var offset = 0
        var entries: [SafeTensorInfo] = []
        for tensor in ordered {
            guard let count = checkedElementCount(tensor.shape),
                  let byteCount = count.multipliedOrNil(by: tensor.dtype.byteSize),
                  let end = offset.addingOrNil(byteCount)
            else {
                throw CheckpointError(url, "cannot write tensor '\(tensor.name)': shape \(tensor.shape) is invalid or too large")
            }
            entries.append(SafeTensorInfo(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, dataOffsets: offset..<end))
            offset = end
        }
        self.entries = entries
    }
}
