import Foundation

/// A file of one of the ecosystem's formats that cannot be written or read, or a model that a format
/// cannot express; the message names the file or the model and the problem.
public struct FormatError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The message.
    public let description: String

    /// An error about `url`.
    public init(_ url: URL, _ problem: String) {
        description = "\(url.path): \(problem)"
    }

    /// An error with a message of its own.
    public init(_ message: String) {
        description = message
    }

    /// The message, for `localizedDescription`.
    public var errorDescription: String? { description }
}
