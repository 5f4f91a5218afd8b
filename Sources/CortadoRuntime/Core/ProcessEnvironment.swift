import Foundation

/// The process's environment variables, read and written under one lock.
///
/// `setenv` may move glibc's `environ` array while another thread walks it, and
/// `ProcessInfo.processInfo.environment` walks all of it: a test process crashed in `strlen` that
/// way when one test's first CPU backend set `OPENBLAS_THREAD_TIMEOUT` while another read its
/// configuration directory. Every read and write of Cortado's goes through here instead.
package enum ProcessEnvironment {
    private static let lock = Locked(())

    /// The value of `name`, or `nil` when it is unset.
    package static func value(_ name: String) -> String? {
        lock.withLock { _ in getenv(name).map { String(cString: $0) } }
    }

    /// Every variable, as `ProcessInfo` gives them.
    package static func all() -> [String: String] {
        lock.withLock { _ in ProcessInfo.processInfo.environment }
    }

    /// Sets `name` to `value`, or leaves a value already there when `overwrite` is false.
    package static func set(_ name: String, _ value: String, overwrite: Bool = true) {
        lock.withLock { _ in _ = setenv(name, value, overwrite ? 1 : 0) }
    }

    /// Runs `body` with the environment locked, for a library call that reads it (OpenBLAS's
    /// `openblas_read_env`).
    package static func whileLocked<R>(_ body: () -> R) -> R {
        lock.withLock { _ in body() }
    }
}
