import Foundation

/// Turns a `JSONDecoder` failure into a sentence for a user: the key at fault and what it should
/// hold, instead of Swift's `DecodingError` description.
enum DecodingProblem {
    /// E.g. `'hidden_size' must be an integer`, `'task' is missing`, `not valid JSON`.
    static func describe(_ error: any Error) -> String {
        func key(_ path: [any CodingKey]) -> String {
            let names = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return names.isEmpty ? "the top level" : "'" + names.joined(separator: ".").replacingOccurrences(of: ".[", with: "[") + "'"
        }
        func kind(_ type: Any.Type) -> String {
            switch type {
            case is Int.Type, is Int32.Type, is Int64.Type, is UInt64.Type, is UInt32.Type: return "an integer"
            case is Float.Type, is Double.Type: return "a number"
            case is String.Type: return "a string"
            case is Bool.Type: return "true or false"
            default:
                let name = String(describing: type)
                if name.hasPrefix("Array") { return "an array" }
                if name.hasPrefix("Dictionary") { return "an object" }
                return "a valid value"
            }
        }
        guard let error = error as? DecodingError else { return "cannot be decoded" }
        switch error {
        case let .typeMismatch(type, context):
            return context.codingPath.isEmpty ? "must be a JSON object" : "\(key(context.codingPath)) must be \(kind(type))"
        case let .valueNotFound(type, context):
            return "\(key(context.codingPath)) must be \(kind(type)), not null"
        case let .keyNotFound(missing, context):
            return "\(key(context.codingPath + [missing])) is missing"
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return "not valid JSON" }
            return "\(key(context.codingPath)) holds an invalid value"
        @unknown default:
            return "cannot be decoded"
        }
    }
}
