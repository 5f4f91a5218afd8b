import CZlib
import Cortado
import Foundation

/// A fresh directory under the system's temporary directory, removed with its contents when released.
final class TemporaryDirectory {
    /// The directory's path.
    let path: String
    /// The directory's URL.
    var url: URL { URL(fileURLWithPath: path, isDirectory: true) }

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("cortado-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        chmod(path, 0o755)  // a test may have made it read-only
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The path of `name` inside the directory.
    func file(_ name: String) -> String {
        (path as NSString).appendingPathComponent(name)
    }

    /// The URL of `name` inside the directory.
    func fileURL(_ name: String) -> URL {
        url.appendingPathComponent(name)
    }

    /// The names in the directory, hidden files included, sorted.
    func listing() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    /// Writes `bytes` to `name` (gzip-compressed with zlib when the name ends in `.gz`); returns the path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = file(name)
        if name.hasSuffix(".gz") {
            guard let gz = gzopen(path, "wb") else { throw CortadoError.io("cannot create \(path)") }
            let written = bytes.withUnsafeBytes { gzwrite(gz, $0.baseAddress, UInt32($0.count)) }
            gzclose(gz)
            guard written == bytes.count || bytes.isEmpty else { throw CortadoError.io("gzwrite failed for \(path)") }
        } else {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        return path
    }

    /// Writes `text` as UTF-8 to `name`; returns the path.
    @discardableResult
    func write(_ name: String, text: String) throws -> String {
        try write(name, Array(text.utf8))
    }
}
