/// Builds the JSON header of a safetensors file.
///
/// The header lists `__metadata__` first (when there is any, keys sorted), then the tensors in the
/// order given, each as `{"dtype":…,"shape":[…],"data_offsets":[begin,end]}`, with no spaces; the
/// JSON is then padded with spaces to a multiple of 8 bytes, as the reference implementation does,
/// so that the data section starts 8-byte aligned.
enum SafeTensorsHeaderEncoding {
    /// The padded header bytes for `entries` (name, dtype, shape, data offsets) and `metadata`.
    static func header(for entries: [SafeTensorInfo], metadata: [String: String]) -> [UInt8] {
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(quoted($0)):\(quoted(metadata[$0] ?? ""))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        for entry in entries {
            let shape = entry.shape.map(String.init).joined(separator: ",")
            fields.append(
                "\(quoted(entry.name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)],"
                    + "\"data_offsets\":[\(entry.dataOffsets.lowerBound),\(entry.dataOffsets.upperBound)]}")
        }
        var bytes = Array("{\(fields.joined(separator: ","))}".utf8)
        let padding = (8 - bytes.count % 8) % 8
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
        return bytes
    }

    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped,
    /// everything else as UTF-8.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
