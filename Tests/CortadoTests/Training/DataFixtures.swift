import CZlib
import CortadoTraining
import Foundation
import Testing

/// Builders of IDX files, written here from the format description independently of the reader.
enum IDXBytes {
    /// A header (magic for `typeCode` and the dimension count, then each dimension big-endian) and `payload`.
    static func file(typeCode: UInt8, dimensions: [Int], payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, typeCode, UInt8(dimensions.count)]
        for dimension in dimensions { bytes += bigEndian(UInt32(dimension)) }
        return bytes + payload
    }

    /// The four big-endian bytes of `value`.
    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// `count` images of `rows` × `columns` unsigned-byte pixels: pixel `p` of image `i` is `(7i + p) % 256`.
    static func images(count: Int, rows: Int = 3, columns: Int = 2) -> [UInt8] {
        let pixels = (0..<count * rows * columns).map { UInt8((7 * ($0 / (rows * columns)) + $0 % (rows * columns)) % 256) }
        return file(typeCode: 0x08, dimensions: [count, rows, columns], payload: pixels)
    }

    /// A labels file holding `labels`.
    static func labels(_ labels: [UInt8]) -> [UInt8] {
        file(typeCode: 0x08, dimensions: [labels.count], payload: labels)
    }
}

/// Writes the four MNIST-format files into `directory`, with `.gz` names when `gzip`.
func writeMNISTDirectory(
    _ directory: TemporaryDirectory, gzip: Bool = false, trainLabels: [UInt8] = [0, 1, 2, 1, 0], testLabels: [UInt8] = [2, 0, 1]
) throws {
    let suffix = gzip ? ".gz" : ""
    try directory.write("train-images-idx3-ubyte" + suffix, IDXBytes.images(count: trainLabels.count))
    try directory.write("train-labels-idx1-ubyte" + suffix, IDXBytes.labels(trainLabels))
    try directory.write("t10k-images-idx3-ubyte" + suffix, IDXBytes.images(count: testLabels.count))
    try directory.write("t10k-labels-idx1-ubyte" + suffix, IDXBytes.labels(testLabels))
}

/// Runs `body`, expecting it to throw a `DataError` whose description contains every one of `fragments`.
func expectDataError(
    containing fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected an error mentioning \(fragments), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as DataError {
        let message = error.description
        #expect(error.errorDescription == message, sourceLocation: sourceLocation)
        for fragment in fragments where !message.contains(fragment) {
            Issue.record("error \"\(message)\" does not mention \"\(fragment)\"", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a DataError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
}
