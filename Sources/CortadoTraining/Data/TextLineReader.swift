import Foundation

/// Reads a UTF-8 text file one line at a time, so a caller can process a file of any length in
/// bounded memory (`cortado predict --input`, `cortado embed --input`).
///
/// Lines end at `\n` (a `\r` before it is dropped). A directory, a device such as `/dev/zero`, a
/// line longer than ``maximumLineLength`` or a line that is not UTF-8 is a ``DataError`` naming
/// the file (and the line).
///
/// ```swift
/// let reader = try TextLineReader(path: "texts.txt")
/// while let line = try reader.next() { print(line) }
/// ```
public final class TextLineReader {
    /// The longest line accepted: 1 MiB.
    public static let maximumLineLength = 1 << 20

    /// The path, as given.
    public let path: String
    /// The number of the line last returned (1-based; 0 before the first).
    public private(set) var lineNumber = 0

    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    /// Opens `path` for reading.
    /// - Throws: ``DataError`` when it is missing, a directory, a device or unreadable.
    public init(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw DataError.notFound(path: path, expected: "a text file with one text per line") }
            throw DataError.unreadable(file: path, reason: String(cString: strerror(errno)))
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG, S_IFIFO: break
        case S_IFDIR: throw DataError.unreadable(file: path, reason: "it is a directory, not a text file")
        default: throw DataError.unreadable(file: path, reason: "it is a device, not a text file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError.unreadable(file: path, reason: String(cString: strerror(errno)))
        }
        self.path = path
        self.handle = handle
    }

    deinit {
        try? handle.close()
    }

    /// The next line without its line end, or `nil` at the end of the file.
    public func next() throws -> String? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = try decode(buffer[start..<end])
                start = newline + 1
                return line
            }
            if buffer.count - start > Self.maximumLineLength {
                throw DataError.malformed(file: path, problem: "line \(lineNumber + 1) is longer than \(formatBytes(Self.maximumLineLength))")
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = try decode(buffer[start...])
                start = buffer.count
                return line
            }
            // Drop what was returned, then read more.
            buffer.removeFirst(start)
            start = 0
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: 1 << 16) ?? Data()
            } catch {
                throw DataError.unreadable(file: path, reason: String(describing: error))
            }
            if chunk.isEmpty { atEnd = true } else { buffer.append(contentsOf: chunk) }
        }
    }

    private func decode(_ bytes: ArraySlice<UInt8>) throws -> String {
        lineNumber += 1
        guard let line = String(validating: bytes, as: UTF8.self) else {
            throw DataError.malformed(file: path, problem: "line \(lineNumber) is not UTF-8 text")
        }
        return line
    }
}

extension TextLineReader {
    /// Every line of `path` that is not blank or whitespace only (texts to embed or calibrate on).
    /// - Throws: ``DataError`` naming the file when it cannot be read or holds no such line.
    public static func nonBlankLines(path: String) throws -> [String] {
        let reader = try TextLineReader(path: path)
        var lines: [String] = []
        while let line = try reader.next() {
            if !line.allSatisfy(\.isWhitespace) { lines.append(line) }
        }
        guard !lines.isEmpty else { throw DataError.malformed(file: path, problem: "no texts (one text per line)") }
        return lines
    }
}
