import Cortado
import Foundation

/// The file operations behind checkpoints: whole-file reads with a size cap, writes that replace
/// the destination only when complete, and an up-front check that a destination can be written.
/// Every failure is a ``CheckpointError`` naming the file.
enum CheckpointFileSystem {
    /// The file's bytes, after checking that it is a readable regular file of at most `limit` bytes.
    static func readWholeFile(_ url: URL, limit: Int, kind: String = "a checkpoint") throws -> [UInt8] {
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
            throw CheckpointError(url, "file is \(formatBytes(size)), more than the \(formatBytes(limit)) \(kind) may have")
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
    /// middle leaves only a hidden `.NAME.tmp-PID-…` file beside the destination, which the next
    /// save removes. A symbolic link is followed (its target is replaced), an existing file keeps
    /// its permission bits, and anything but a regular file (a device, a FIFO) is refused.
    static func writeAtomically(to url: URL, _ body: (FileSink) throws -> Void) throws {
        // A symlink is followed: its target is written (replaced), the link stays.
        let url = try resolvedDestination(url)
        try checkDestination(url)
        removeStaleTemporaries(of: url)
        // An existing file keeps its permission bits; a new one gets 0666 less the umask.
        var existing = stat()
        let keptMode: mode_t? = stat(url.path, &existing) == 0 ? existing.st_mode & 0o7777 : nil
        let temporary = siblingURL(of: url, tag: "tmp-\(getpid())")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw creationError(url, errno: errno) }
        if let keptMode { fchmod(descriptor, keptMode) }
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

    /// `url` with symbolic links followed (up to 32 of them), also when the final target does not
    /// exist yet, so that a save through a link writes the link's target.
    static func resolvedDestination(_ url: URL) throws -> URL {
        try checkFileURL(url)
        var path = url.path
        for _ in 0..<32 {
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return URL(fileURLWithPath: path) }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(path, &buffer, buffer.count - 1)
            guard length > 0 else { throw CheckpointError(url, "cannot read the symbolic link \(path): \(errnoMessage())") }
            let target = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            path = target.hasPrefix("/") ? target
                : URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(target).path
        }
        throw CheckpointError(url, "cannot write: too many levels of symbolic links")
    }

    /// Removes hidden temporary files beside `url` that an earlier save left when it was killed:
    /// `.NAME.tmp-PID-…` whose process no longer runs, and older `.NAME.tmp-UUID` files more than
    /// ten minutes old. Failures are ignored (the files only waste space).
    static func removeStaleTemporaries(of url: URL) {
        let directory = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent).tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            let path = directory.appendingPathComponent(name).path
            if let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]) {
                guard pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            } else {
                var info = stat()
                guard lstat(path, &info) == 0, time(nil) - info.st_mtim.tv_sec > 600 else { continue }
            }
            unlink(path)
        }
    }

    /// Throws unless a file can be written at `url`: its directory exists and accepts new files,
    /// and `url` is not a directory. Leaves nothing behind and never touches an existing file.
    static func checkWritable(_ url: URL) throws {
        let url = try resolvedDestination(url)
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
        if stat(url.path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: throw CheckpointError(url, "cannot write: it is a directory")
            case S_IFCHR, S_IFBLK: throw CheckpointError(url, "cannot write: it is a device, not a regular file (a checkpoint is never written over one)")
            default: throw CheckpointError(url, "cannot write: it is not a regular file (a FIFO or socket)")
            }
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

/// Checks that compare a `--save` destination with the run's inputs.
enum SavePath {
    /// The kinds of input a run reads.
    enum Input {
        /// `--data`: a file, or a directory of MNIST-format files.
        case data
        /// `--init`: a Hugging Face model directory.
        case model

        /// Whether the run reads the file `name` inside such a directory.
        func reads(_ name: String) -> Bool {
            switch self {
            case .data: return name.hasPrefix("train-") || name.hasPrefix("t10k-")
            case .model: return ["model.safetensors", "config.json", "vocab.txt", "tokenizer_config.json",
                                 "sentence_bert_config.json"].contains(name)
            }
        }
    }

    /// Whether writing `save` would replace `input` or a file the run reads inside the directory `input`.
    static func sameFile(_ save: String, _ input: String, kind: Input) -> Bool {
        guard let target = try? CheckpointFileSystem.resolvedDestination(URL(fileURLWithPath: save)) else { return false }
        let resolvedInput = URL(fileURLWithPath: input).resolvingSymlinksInPath()
        var saveInfo = stat(), inputInfo = stat()
        guard stat(resolvedInput.path, &inputInfo) == 0 else { return false }
        if inputInfo.st_mode & S_IFMT == S_IFDIR {
            var directoryInfo = stat()
            guard stat(target.deletingLastPathComponent().path, &directoryInfo) == 0 else { return false }
            return directoryInfo.st_dev == inputInfo.st_dev && directoryInfo.st_ino == inputInfo.st_ino
                && kind.reads(target.lastPathComponent)
        }
        guard stat(target.path, &saveInfo) == 0 else { return false }
        return saveInfo.st_dev == inputInfo.st_dev && saveInfo.st_ino == inputInfo.st_ino
    }
}
