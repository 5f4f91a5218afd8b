import CZlib
import Foundation

/// Reads a file through zlib's gz* functions, which inflate gzip files and pass plain files
/// through unchanged, so callers never need to know which kind they were given.
final class GzipFileReader {
    /// The path, as given, for error messages.
    let path: String
    /// Whether the file is a gzip stream that stopped before its end (the file was cut short).
    private(set) var gzipStreamCutShort = false
    private let file: gzFile

    /// Opens `path`; `expected` describes the file for the not-found message.
    init(path: String, expected: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw DataError.notFound(path: path, expected: expected) }
            throw DataError.unreadable(file: path, reason: String(cString: strerror(errno)))
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw DataError.notFound(path: path, expected: "it is a directory, \(expected)")
        case S_IFIFO: break  // a pipe streams a file's contents: fine
        default: throw DataError.unreadable(file: path, reason: "it is a device, not a file (\(expected))")
        }
        guard let file = gzopen(path, "rb") else {
            throw DataError.unreadable(file: path, reason: String(cString: strerror(errno)))
        }
        gzbuffer(file, 1 << 20)
        self.path = path
        self.file = file
    }

    deinit {
        gzclose_r(file)
    }

    /// Fills `buffer` as far as the file allows; returns how many bytes it read (fewer at the end).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var total = 0
        while total < buffer.count {
            let chunk = UInt32(min(buffer.count - total, 1 << 30))
            let got = gzread(file, base + total, chunk)
            if got < 0 { throw DataError.unreadable(file: path, reason: lastError()) }
            if got == 0 {
                // zlib reports a gzip stream cut short only through gzerror, after the last read.
                var code: Int32 = 0
                _ = gzerror(file, &code)
                if code == Z_BUF_ERROR { gzipStreamCutShort = true }
                break
            }
            total += Int(got)
        }
        return total
    }

    /// Reads `count` bytes, or fewer if the file ends first.
    func read(upTo count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try bytes.withUnsafeMutableBytes { try read(into: $0) }
        bytes.removeLast(count - got)
        return bytes
    }

    /// Reads the rest of the file; refuses files larger than `limit` bytes.
    func readToEnd(limit: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = 1 << 16  // doubling up to 1 MiB: a small file allocates little
        while true {
            let start = bytes.count
            chunk = min(chunk * 2, 1 << 20)
            bytes.append(contentsOf: [UInt8](repeating: 0, count: chunk))
            let got = try bytes.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[start...])) }
            bytes.removeLast(chunk - got)
            if got < chunk {
                if gzipStreamCutShort { throw DataError.unreadable(file: path, reason: "the gzip stream is cut short") }
                return bytes
            }
            if bytes.count > limit {
                throw DataError.malformed(file: path, problem: "larger than the \(formatBytes(limit)) this reader accepts")
            }
        }
    }

    /// zlib's description of the last error, or the system's for an I/O error.
    private func lastError() -> String {
        var code: Int32 = 0
        let message = gzerror(file, &code).map { String(cString: $0) } ?? ""
        if code == Z_OK { return "" }
        if code == Z_ERRNO { return String(cString: strerror(errno)) }
        return message.isEmpty ? "zlib error \(code)" : message
    }
}
