import Foundation

/// Reads small configuration and vocabulary files whole, after checking that they are regular
/// files of bounded size: a directory, a device such as `/dev/zero` or a FIFO is a clear
/// ``DataError`` naming the path, never an endless read or Foundation's generic message.
enum SmallFile {
    /// The largest configuration file read (JSON settings, vocabularies): 256 MiB.
    static let defaultLimit = 256 << 20

    /// The bytes of `url`; `expected` describes the file for the not-found message.
    static func read(_ url: URL, expected: String, limit: Int = defaultLimit) throws -> Data {
        let path = url.path
        do {
            return Data(try CheckpointFileSystem.readWholeFile(url, limit: limit, kind: "such a file"))
        } catch let error as CheckpointError {
            var info = stat()
            if stat(path, &info) != 0, errno == ENOENT { throw DataError.notFound(path: path, expected: expected) }
            throw DataError.unreadable(file: path, reason: error.problem)
        }
    }
}
