import CortadoTraining
import Foundation
import Testing

@Suite("Data: IDX files")
struct DataIDXTests {
    @Test("a gzip file and a raw file with the same content read the same")
    func gzipAndRawAgree() throws {
        let directory = try TemporaryDirectory()
        let bytes = IDXBytes.images(count: 4, rows: 5, columns: 3)
        let raw = try IDXFile.read(path: try directory.write("images", bytes), expecting: .images)
        let gzip = try IDXFile.read(path: try directory.write("images.gz", bytes), expecting: .images)
        #expect(raw.dimensions == [4, 5, 3])
        #expect(raw.elementType == .unsignedByte)
        #expect(raw.rawBytes == Array(bytes[16...]))
        #expect(gzip.dimensions == raw.dimensions)
        #expect(gzip.rawBytes == raw.rawBytes)
        // The gzip file really is compressed: it starts with the gzip magic.
        let stored = try Data(contentsOf: URL(fileURLWithPath: directory.file("images.gz")))
        #expect(Array(stored.prefix(2)) == [0x1F, 0x8B])
    }

    @Test("every element type converts to the right floats, big-endian")
    func elementTypes() throws {
        let directory = try TemporaryDirectory()
        let cases: [(UInt8, [UInt8], [Float])] = [
            (0x08, [0, 255], [0, 255]),
            (0x09, [0x7F, 0x80], [127, -128]),
            (0x0B, [0x01, 0x02, 0xFF, 0xFE], [258, -2]),
            (0x0C, [0x00, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF], [65536, -1]),
            (0x0D, IDXBytes.bigEndian(Float(1.5).bitPattern) + IDXBytes.bigEndian(Float(-0.25).bitPattern), [1.5, -0.25]),
            (0x0E, [0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18, 0xC0, 0, 0, 0, 0, 0, 0, 0], [Float(Double.pi), -2]),
        ]
        for (typeCode, payload, expected) in cases {
            let path = try directory.write("type-\(typeCode).gz", IDXBytes.file(typeCode: typeCode, dimensions: [2], payload: payload))
            let file = try IDXFile.read(path: path)
            #expect(file.elementType.rawValue == typeCode)
            #expect(file.floatValues() == expected, "type 0x\(String(typeCode, radix: 16))")
        }
    }

    @Test("a wrong magic number names the file, the magic found and the one expected")
    func wrongMagic() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("train-images-idx3-ubyte.gz", [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1])
        expectDataError(containing: [path, "wrong IDX magic 0x12345678", "expected 0x00000803 for images"]) {
            _ = try IDXFile.read(path: path, expecting: .images)
        }
        expectDataError(containing: [path, "wrong IDX magic 0x12345678", "two zero bytes"]) {
            _ = try IDXFile.read(path: path)
        }
        let labels = try directory.write("labels", IDXBytes.labels([1, 2]))
        expectDataError(containing: [labels, "wrong IDX magic 0x00000801", "expected 0x00000803 for images"]) {
            _ = try IDXFile.read(path: labels, expecting: .images)
        }
    }

    @Test("header problems: too short, unknown type, no dimensions, truncated dimensions, absurd sizes")
    func headerProblems() throws {
        let directory = try TemporaryDirectory()
        let cases: [(String, [UInt8], [String])] = [
            ("short", [0, 0, 8], ["too short for an IDX header: 3 bytes"]),
            ("empty", [], ["too short for an IDX header: 0 bytes"]),
            ("unknown-type", [0, 0, 0x07, 1, 0, 0, 0, 1, 0], ["unknown IDX element type 0x07", "0x08 unsigned byte"]),
            ("no-dimensions", [0, 0, 8, 0], ["0 dimensions"]),
            ("cut-dimensions", [0, 0, 8, 3, 0, 0, 0, 2, 0, 0], ["truncated IDX header", "3 dimensions need 12 bytes", "found 6"]),
            ("too-many-elements", IDXBytes.file(typeCode: 8, dimensions: [65536, 65536], payload: []), ["65536 × 65536", "more than 2147483648 elements"]),
            ("too-many-bytes", IDXBytes.file(typeCode: 0x0E, dimensions: [1 << 30], payload: []), ["more than the 4.0 GiB accepted"]),
            ("overflow", IDXBytes.file(typeCode: 8, dimensions: [.init(UInt32.max), .init(UInt32.max), .init(UInt32.max)], payload: []), ["implausible"]),
        ]
        for (name, bytes, fragments) in cases {
            let path = try directory.write(name, bytes)
            expectDataError(containing: [path] + fragments) { _ = try IDXFile.read(path: path) }
        }
    }

    @Test("truncated data and trailing bytes are errors that give the sizes")
    func truncatedAndTrailing() throws {
        let directory = try TemporaryDirectory()
        let full = IDXBytes.images(count: 10, rows: 4, columns: 5)
        for name in ["cut", "cut.gz"] {
            let path = try directory.write(name, Array(full.dropLast(150)))
            expectDataError(containing: [path, "truncated: expected 200 bytes of pixels", "found 50"]) {
                _ = try IDXFile.read(path: path, expecting: .images)
            }
        }
        let labels = try directory.write("labels.gz", Array(IDXBytes.labels([1, 2, 3, 4]).dropLast(1)))
        expectDataError(containing: [labels, "truncated: expected 4 bytes of labels", "found 3"]) {
            _ = try IDXFile.read(path: labels, expecting: .labels)
        }
        let trailing = try directory.write("trailing.gz", full + [0])
        expectDataError(containing: [trailing, "unexpected bytes after the 200 bytes of pixels"]) {
            _ = try IDXFile.read(path: trailing, expecting: .images)
        }
    }

    @Test("a gzip file cut short mid-stream is reported as truncated")
    func cutGzipStream() throws {
        let directory = try TemporaryDirectory()
        // Pseudo-random pixels do not compress, so half the gzip file holds most of the header and data.
        let pixels = Fixtures.values(50 * 8 * 8, seed: 3, low: 0, high: 255).map { UInt8($0) }
        let whole = try directory.write("whole.gz", IDXBytes.file(typeCode: 8, dimensions: [50, 8, 8], payload: pixels))
        let compressed = try Data(contentsOf: URL(fileURLWithPath: whole))
        let path = try directory.write("cut.gz.bin", Array(compressed.prefix(compressed.count / 2)))
        expectDataError(containing: [path, "truncated", "gzip stream is cut short"]) {
            _ = try IDXFile.read(path: path, expecting: .images)
        }
    }

    @Test("a missing file or a directory is a not-found error naming the path")
    func missingFile() throws {
        let directory = try TemporaryDirectory()
        let missing = directory.file("nothing-here.gz")
        expectDataError(containing: [missing, "not found", "IDX file of images"]) {
            _ = try IDXFile.read(path: missing, expecting: .images)
        }
        expectDataError(containing: [directory.path, "is a directory"]) { _ = try IDXFile.read(path: directory.path) }
    }
}
