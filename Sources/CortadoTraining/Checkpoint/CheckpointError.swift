import Foundation

/// A checkpoint file that could not be written or read: the message names the file and the problem.
///
/// ```
/// model.safetensors: truncated: the header length says 812 bytes but only 92 follow it
/// ```
public struct CheckpointError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// The file, as the caller named it (a relative path stays relative).
    public let path: String
    /// What is wrong, without the file name, e.g. `tensor 'fc.weight' has dtype I32 but float32 was expected`.
    public let problem: String

    /// An error about the file at `path`.
    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    /// An error about the file at `url`.
    public init(_ url: URL, _ problem: String) {
        self.init(path: url.relativePath, problem: problem)
    }

    /// `path: problem`, the message for the user.
    public var description: String { "\(path): \(problem)" }

    /// The message, for code that reads `localizedDescription`.
    public var errorDescription: String? { description }
}
