import Foundation

/// A problem with a data set on disk or with how it was asked for; `description` is the message
/// for the user, and it always names the file or directory concerned and what is wrong.
public enum DataError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// A file or directory that does not exist (or is the wrong kind); `expected` says what should be there.
    case notFound(path: String, expected: String)
    /// A file that exists but cannot be opened or read (permissions, a corrupt gzip stream).
    case unreadable(file: String, reason: String)
    /// A file whose content breaks its format: a bad header, a truncated body, a non-numeric cell.
    case malformed(file: String, problem: String)
    /// Files that disagree with each other, such as image and label files with different counts.
    case inconsistent(files: [String], problem: String)
    /// A request the data cannot satisfy, such as a target column the file does not have.
    case invalidRequest(String)

    /// The message, for code that reads `localizedDescription`.
    public var errorDescription: String? { description }

    /// A one-paragraph message for the user.
    public var description: String {
        switch self {
        case let .notFound(path, expected):
            return "\(path): not found; \(expected)"
        case let .unreadable(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .malformed(file, problem):
            return "\(file): \(problem)"
        case let .inconsistent(files, problem):
            return "\(files.joined(separator: " and ")): \(problem)"
        case let .invalidRequest(message):
            return message
        }
    }
}
