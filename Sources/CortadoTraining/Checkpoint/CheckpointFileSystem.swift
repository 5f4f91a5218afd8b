import Cortado
import Foundation

/// The file operations behind checkpoints: whole-file reads with a size cap, writes that replace
/// the destination only when complete, and an up-front check that a destination can be written.
/// Every failure is a ``CheckpointError`` naming the file.
enum CheckpointFileSystem {
    /// The file's bytes, after checking that it is a readable regular file of at most `limit` bytes.
    static func readWholeFile(_ url: URL, limit: Int) throws -> [UInt8] {
        try checkFileURL(url)
        let path = url.path
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CheckpointError(url, errno == ENOENT ? "no such file" : "cannot read: \(errnoMessage())")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw CheckpointError(url, info.st_mode & S_IFMT == S_IFDIR
                                  ? "is a directory, not a file" : "is not a regular file")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CheckpointError(url, "cannot read: \(errnoMessage())") }
        defer { close(descriptor) }
        guard fstat(descriptor, &info) == 0 else { throw CheckpointError(url, "cannot read: \(errnoMessage())") }
        let size = Int(info.st_size)
        guard size <= limit else {
            throw CheckpointError(url, "file is \(formatBytes(size)), more than the \(formatBytes(limit)) a checkpoint may have")
        }
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = 0
            guard let base = buffer.baseAddress else { return }
            while initialized < size {
                let result = read(descriptor, base + initialized, size - initialized)
                if result > 0 {
                    initialized += result
                } else if result == 0 || errno != EINTR {
                    failure = result == 0 ? 0 : errno
                    break
                }
            }
        }
        guard failure == 0 else { throw CheckpointError(url, "cannot read: \(String(cString: strerror(failure)))") }
        return bytes
    }

    /// Writes through `body` into a new temporary file beside `url`, then renames it over `url`.
    ///
    /// Until the rename an existing file at `url` stays intact; when anything fails (including
    /// `body`), the temporary file is removed and the error is rethrown. A process killed in the
    /// middle leaves only a hidden `.NAME.tmp-…` file beside the destination.
    static func writeAtomically(to url: URL, _ body: (FileSink) throws -> Void) throws {
        try checkDestination(url)
        let temporary = siblingURL(of: url, tag: "tmp")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw creationError(url, errno: errno) }
        let sink = FileSink(descriptor: descriptor, url: url)
        var renamed = false
        defer {
            if !renamed { unlink(temporary.path) }
        }
        do {
            try body(sink)
            guard fsync(descriptor) == 0 else { throw CheckpointError(url, "cannot write: \(errnoMessage())") }
        } catch {
            close(descriptor)
            throw error
        }
        guard close(descriptor) == 0 else { throw CheckpointError(url, "cannot write: \(errnoMessage())") }
        guard rename(temporary.path, url.path) == 0 else {
            throw CheckpointError(url, "cannot replace the file: \(errnoMessage())")
        }
        renamed = true
        syncDirectory(of: url)
    }

    /// Throws unless a file can be written at `url`: its directory exists and accepts new files,
    /// and `url` is not a directory. Leaves nothing behind and never touches an existing file.
    static func checkWritable(_ url: URL) throws {
        try checkDestination(url)
        let probe = siblingURL(of: url, tag: "probe")
        let descriptor = open(probe.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw creationError(url, errno: errno) }
        close(descriptor)
        unlink(probe.path)
    }

    /// Throws when the directory of `url` is missing or not a directory, or `url` is a directory.
    private static func checkDestination(_ url: URL) throws {
        try checkFileURL(url)
        let directory = url.deletingLastPathComponent().path
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw CheckpointError(url, errno == ENOENT
                                  ? "cannot write: directory \(directory) does not exist"
                                  : "cannot write: directory \(directory): \(errnoMessage())")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw CheckpointError(url, "cannot write: \(directory) is not a directory")
        }
        if stat(url.path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            throw CheckpointError(url, "cannot write: it is a directory")
        }
    }

    private static func checkFileURL(_ url: URL) throws {
        guard url.isFileURL else { throw CheckpointError(url, "not a file URL (\(url.absoluteString))") }
    }

    private static func creationError(_ url: URL, errno code: Int32) -> CheckpointError {
        let directory = url.deletingLastPathComponent().path
        switch code {
        case EACCES, EPERM:
            return CheckpointError(url, "cannot write: permission denied in directory \(directory)")
        case EROFS:
            return CheckpointError(url, "cannot write: directory \(directory) is on a read-only file system")
        default:
            return CheckpointError(url, "cannot create a file in directory \(directory): \(String(cString: strerror(code)))")
        }
    }

    /// A hidden, unique name in the directory of `url`: `.NAME.TAG-UUID`.
    private static func siblingURL(of url: URL, tag: String) -> URL {
        url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(tag)-\(UUID().uuidString)")
    }

    /// Makes the rename durable; a failure here only weakens durability, so it is ignored.
    private static func syncDirectory(of url: URL) {
        let descriptor = open(url.deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    /// The C library's message for the current `errno`.
    static func errnoMessage() -> String {
        String(cString: strerror(errno))
    }
}

/// An open file that the atomic writer hands to its body.
final class FileSink {
    private let descriptor: Int32
    private let url: URL
    /// Bytes written so far.
    private(set) var bytesWritten = 0

    init(descriptor: Int32, url: URL) {
        self.descriptor = descriptor
        self.url = url
    }

    /// Writes all of `bytes` at the end of the file, retrying short writes.
    func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var done = 0
            while done < buffer.count {
                let result = write(descriptor, base + done, buffer.count - done)
                if result > 0 {
                    done += result
                } else if result < 0 && errno == EINTR {
                    continue
                } else {
                    let reason = errno == ENOSPC ? "no space left on the device" : CheckpointFileSystem.errnoMessage()
                    throw CheckpointError(url, "cannot write: \(reason)")
                }
            }
        }
        bytesWritten += bytes.count
    }
}
