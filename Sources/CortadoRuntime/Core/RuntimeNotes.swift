import Foundation
import Synchronization

/// One-line notes on standard error about files the runtime found damaged and replaced with
/// defaults (a tuned-parameter table, a kernel-cache entry): each distinct note is written once
/// per process, so a problem is visible without flooding a long run.
package enum RuntimeNotes {
    private static let written = Mutex<Set<String>>([])

    /// Writes `note: message` once per process.
    package static func emit(_ message: String) {
        let first = written.withLock { $0.insert(message).inserted }
        guard first else { return }
        FileHandle.standardError.write(Data("note: \(message)\n".utf8))
    }
}
