/// The lines of a text file, split at LF or CRLF, each with its 1-based line number.
enum TextLines {
    /// Every line of `bytes` (UTF-8, a leading byte-order mark skipped, invalid bytes replaced by
    /// U+FFFD), blank lines included; a final line break does not start an extra line.
    static func split(_ bytes: [UInt8]) -> [(number: Int, text: String)] {
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var lines: [(number: Int, text: String)] = []
        var number = 1
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            var contentEnd = end
            if contentEnd > start, bytes[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            lines.append((number, String(decoding: bytes[start..<contentEnd], as: UTF8.self)))
            number += 1
            start = end + 1
        }
        return lines
    }
}
