import Foundation

/// Appends TFRecord records to a file: each is the payload's length (UInt64, little-endian), the
/// masked CRC-32C of those 8 bytes, the payload, and the payload's masked CRC-32C.
///
/// An event file is a log that readers follow while it grows, so it is appended to, not replaced:
/// each record goes to the file in one `write`, so a reader (or a crash) never sees half a record
/// except at the very end, where TensorBoard's reader waits for the rest.
public final class TFRecordWriter {
    /// The file written.
    public let url: URL
    private let handle: FileHandle

    /// Creates `url` (which must not exist yet) for writing.
    /// - Throws: ``FormatError`` when the file exists or cannot be created.
    public init(creating url: URL) throws {
        guard !FileManager.default.fileExists(atPath: url.path) else {
            throw FormatError(url, "already exists; event files are never overwritten")
        }
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: url.path)
        else { throw FormatError(url, "cannot be created (check that its folder is writable)") }
        self.url = url
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// The bytes of one record holding `payload`.
    public static func record(_ payload: Data) -> Data {
        var length = Data(count: 8)
        let count = UInt64(payload.count)
        for index in 0..<8 { length[index] = UInt8(truncatingIfNeeded: count >> (8 * UInt64(index))) }
        var record = length
        record.append(littleEndian(CRC32C.masked(length)))
        record.append(payload)
        record.append(littleEndian(CRC32C.masked(payload)))
        return record
    }

    /// Appends one record.
    /// - Throws: ``FormatError`` when the write fails (a full disk, a removed folder).
    public func write(_ payload: Data) throws {
        do {
            try handle.write(contentsOf: Self.record(payload))
        } catch {
            throw FormatError(url, "cannot be written: \(error.localizedDescription)")
        }
    }

    /// Flushes the file to the disk.
    public func flush() throws {
        do { try handle.synchronize() } catch { throw FormatError(url, "cannot be flushed: \(error.localizedDescription)") }
    }

    private static func littleEndian(_ value: UInt32) -> Data {
        Data((0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) })
    }
}
