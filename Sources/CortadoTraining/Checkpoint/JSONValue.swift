import Foundation

/// Any JSON value, decoded without a schema so that the header checks can say exactly which field
/// is wrong. Integers that fit `Int` stay exact; other numbers become `Double`.
indirect enum JSONValue: Decodable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number that is an integer within `Int`'s range.
    case integer(Int)
    /// Any other number.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object (when a key repeats, the decoder keeps one of the values).
    case object([String: JSONValue])

    /// Decodes whichever JSON value is there.
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses UTF-8 JSON text.
    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    /// What kind of value this is, for messages: `a number`, `an array`, …
    var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer, .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Compact JSON text for messages, cut to about `limit` characters.
    func abbreviated(_ limit: Int = 60) -> String {
        let text = compactText
        return text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }

    private var compactText: String {
        switch self {
        case .null: return "null"
        case let .bool(value): return String(value)
        case let .integer(value): return String(value)
        case let .number(value): return String(value)
        case let .string(value): return SafeTensorsHeaderEncoding.quoted(value)
        case let .array(values): return "[" + values.map(\.compactText).joined(separator: ", ") + "]"
        case let .object(fields):
            let pairs = fields.keys.sorted().map { "\(SafeTensorsHeaderEncoding.quoted($0)): \(fields[$0]?.compactText ?? "")" }
            return "{" + pairs.joined(separator: ", ") + "}"
        }
    }
}
