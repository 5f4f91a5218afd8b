import Foundation

/// Checks a safetensors JSON header against its data section and turns it into tensor entries.
///
/// Every tensor must have a known dtype, a shape of non-negative integers and `data_offsets`
/// `[begin, end]` with `begin ≤ end ≤` the data section's size and `end − begin` equal to the
/// shape's byte count; `__metadata__` must map strings to strings. The tensors must index the
/// data section fully, as the format requires: in order of their offsets each begins where the
/// previous one ends, the first at 0 and the last at the end of the file, so no two overlap and no
/// byte is left over (a header length off by a byte or two shifts the data and fails here).
enum SafeTensorsHeaderParsing {
    /// The tensors (ordered by where their data begins, then by name) and the metadata.
    struct Header {
        /// Every tensor entry.
        var tensors: [SafeTensorInfo]
        /// The `__metadata__` object, empty when absent.
        var metadata: [String: String]
    }

    /// The key that holds string metadata rather than a tensor.
    static let metadataKey = "__metadata__"

    /// Parses and checks `json`; errors are ``CheckpointError``s about `url`.
    static func parse(_ json: [UInt8], dataSectionSize: Int, url: URL) throws -> Header {
        func failure(_ problem: String) -> CheckpointError { CheckpointError(url, problem) }

        guard isValidUTF8(json) else {
            throw failure("header is not valid UTF-8")
        }
        let root: JSONValue
        do {
            root = try JSONValue.parse(json)
        } catch {
            let start = String(decoding: json.prefix(40), as: UTF8.self)
            throw failure("header is not valid JSON (it begins '\(start)\(json.count > 40 ? "…" : "")')")
        }
        guard case let .object(fields) = root else {
            throw failure("header is \(root.kindDescription), not a JSON object")
        }

        var header = Header(tensors: [], metadata: [:])
        for key in fields.keys.sorted() {
            guard let value = fields[key] else { continue }
            if key == metadataKey {
                header.metadata = try metadata(value, failure)
            } else {
                header.tensors.append(try tensorEntry(key, value, dataSectionSize: dataSectionSize, failure))
            }
        }
        header.tensors.sort {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name)
                < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name)
        }
        try checkFullyIndexed(header.tensors, dataSectionSize: dataSectionSize, failure)
        return header
    }

    private static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    private static func metadata(
        _ value: JSONValue, _ failure: (String) -> CheckpointError
    ) throws -> [String: String] {
        switch value {
        case .null:
            return [:]
        case let .object(fields):
            var metadata: [String: String] = [:]
            for key in fields.keys.sorted() {
                guard case let .string(text)? = fields[key] else {
                    let kind = fields[key]?.kindDescription ?? "missing"
                    throw failure("__metadata__ value for '\(key)' is \(kind), not a string")
                }
                metadata[key] = text
            }
            return metadata
        default:
            throw failure("__metadata__ is \(value.kindDescription), not an object of strings")
        }
    }

    private static func tensorEntry(
        _ name: String, _ value: JSONValue, dataSectionSize: Int, _ failure: (String) -> CheckpointError
    ) throws -> SafeTensorInfo {
        guard case let .object(fields) = value else {
            throw failure("tensor '\(name)' is \(value.kindDescription), not an object with dtype, shape and data_offsets")
        }
        guard case let .string(dtypeName)? = fields["dtype"] else {
            throw failure("tensor '\(name)' has no dtype string (dtype: \(fields["dtype"]?.abbreviated() ?? "missing"))")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            let known = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw failure("tensor '\(name)' has unknown dtype \(SafeTensorsHeaderEncoding.quoted(dtypeName)) (known: \(known))")
        }
        guard let shape = nonNegativeIntegers(fields["shape"]) else {
            throw failure("tensor '\(name)' shape must be an array of non-negative integers, not \(fields["shape"]?.abbreviated() ?? "missing")")
        }
        guard let offsets = nonNegativeIntegers(fields["data_offsets"]), offsets.count == 2 else {
            throw failure("tensor '\(name)' data_offsets must be two non-negative integers [begin, end], not \(fields["data_offsets"]?.abbreviated() ?? "missing")")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else {
            throw failure("tensor '\(name)' data_offsets [\(begin), \(end)] end before they begin")
        }
        guard end <= dataSectionSize else {
            throw failure("tensor '\(name)' data_offsets [\(begin), \(end)] exceed the data section (\(dataSectionSize) bytes)")
        }
        guard let count = checkedElementCount(shape), let byteCount = count.multipliedOrNil(by: dtype.byteSize) else {
            throw failure("tensor '\(name)' shape \(shape) is too large")
        }
        guard end - begin == byteCount else {
            throw failure("tensor '\(name)' of shape \(shape) and dtype \(dtype) needs \(byteCount) bytes "
                          + "but data_offsets [\(begin), \(end)] hold \(end - begin)")
        }
        return SafeTensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }

    private static func nonNegativeIntegers(_ value: JSONValue?) -> [Int]? {
        guard case let .array(elements)? = value else { return nil }
        var integers: [Int] = []
        for element in elements {
            guard case let .integer(integer) = element, integer >= 0 else { return nil }
            integers.append(integer)
        }
        return integers
    }

    /// `tensors` must be sorted by where they begin: each must start where the previous one ends
    /// (empty tensors take no bytes), and the last must end at `dataSectionSize`.
    private static func checkFullyIndexed(
        _ tensors: [SafeTensorInfo], dataSectionSize: Int, _ failure: (String) -> CheckpointError
    ) throws {
        var end = 0
        var previous: SafeTensorInfo?
        for tensor in tensors where !tensor.dataOffsets.isEmpty {
            let range = tensor.dataOffsets
            if range.lowerBound < end, let previous {
                let a = previous.dataOffsets
                throw failure("tensors '\(previous.name)' [\(a.lowerBound), \(a.upperBound)] and "
                              + "'\(tensor.name)' [\(range.lowerBound), \(range.upperBound)] overlap")
            }
            if range.lowerBound > end {
                throw failure("bytes \(end)..<\(range.lowerBound) of the data section belong to no tensor (before '\(tensor.name)'): "
                              + "the tensors must index the data fully (is the header length wrong?)")
            }
            end = range.upperBound
            previous = tensor
        }
        guard end == dataSectionSize else {
            throw failure("\(dataSectionSize - end) bytes after the last tensor's data belong to no tensor "
                          + "(the data section has \(dataSectionSize) bytes, the tensors index \(end)): a wrong header length, or trailing bytes")
        }
    }
}
