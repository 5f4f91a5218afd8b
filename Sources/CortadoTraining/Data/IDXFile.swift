import Foundation

/// The element types an IDX file can hold, keyed by the third byte of its magic number.
public enum IDXElementType: UInt8, Sendable, CaseIterable {
    /// Unsigned 8-bit integers (MNIST pixels and labels).
    case unsignedByte = 0x08
    /// Signed 8-bit integers.
    case signedByte = 0x09
    /// Big-endian signed 16-bit integers.
    case short = 0x0B
    /// Big-endian signed 32-bit integers.
    case int = 0x0C
    /// Big-endian IEEE 754 single-precision floats.
    case float = 0x0D
    /// Big-endian IEEE 754 double-precision floats.
    case double = 0x0E

    /// Bytes per element.
    public var byteWidth: Int {
        switch self {
        case .unsignedByte, .signedByte: 1
        case .short: 2
        case .int, .float: 4
        case .double: 8
        }
    }

    /// The name the IDX format description uses, e.g. `unsigned byte`.
    public var name: String {
        switch self {
        case .unsignedByte: "unsigned byte"
        case .signedByte: "signed byte"
        case .short: "short"
        case .int: "int"
        case .float: "float"
        case .double: "double"
        }
    }
}

/// What a caller expects of an IDX file, checked as soon as the header is read.
public struct IDXExpectation: Sendable {
    /// The element type the file must hold.
    public var elementType: IDXElementType
    /// The number of dimensions the file must have.
    public var rank: Int
    /// What the file holds, for messages: `images`, `labels`.
    public var contents: String
    /// What one element is, for messages: `pixels`, `labels`.
    public var elementNoun: String

    /// An expectation of `rank` dimensions of `elementType`, described as `contents` made of `elementNoun`.
    public init(elementType: IDXElementType, rank: Int, contents: String, elementNoun: String) {
        self.elementType = elementType
        self.rank = rank
        self.contents = contents
        self.elementNoun = elementNoun
    }

    /// MNIST-format images: 3-D unsigned bytes (count, rows, columns), magic 0x00000803.
    public static let images = IDXExpectation(elementType: .unsignedByte, rank: 3, contents: "images", elementNoun: "pixels")
    /// MNIST-format labels: 1-D unsigned bytes, magic 0x00000801.
    public static let labels = IDXExpectation(elementType: .unsignedByte, rank: 1, contents: "labels", elementNoun: "labels")

    /// The magic number a file meeting this expectation starts with.
    public var magic: UInt32 { UInt32(elementType.rawValue) << 8 | UInt32(rank) }
}

/// An array read from an IDX file (the format of MNIST and Fashion-MNIST), gzip-compressed or raw.
///
/// The file must be exactly as long as its header says: a file that ends early is reported as
/// truncated, and bytes after the promised data are an error too, since they mean the header and
/// the data disagree.
public struct IDXFile: Sendable {
    /// The largest element count accepted (2^31), whatever the header claims.
    public static let maximumElementCount = 1 << 31
    /// The largest data size accepted (4 GiB), whatever the header claims.
    public static let maximumByteCount = 1 << 32
    /// Bytes read at a time: memory grows with the data actually read, not with the header's claim.
    static let readChunkSize = 16 << 20

    /// The element type from the magic number.
    public let elementType: IDXElementType
    /// The dimensions from the header, outermost first.
    public let dimensions: [Int]
    /// The data exactly as stored: big-endian elements, row-major.
    public let rawBytes: [UInt8]

    /// The number of elements (the product of the dimensions).
    public var elementCount: Int { dimensions.reduce(1, *) }

    /// Reads the IDX file at `path` (gzip or raw); with `expectation`, also checks the magic number.
    public static func read(path: String, expecting expectation: IDXExpectation? = nil) throws -> IDXFile {
        let what = expectation.map { "an IDX file of \($0.contents)" } ?? "an IDX file"
        let reader = try GzipFileReader(path: path, expected: "expected \(what)")
        let magicBytes = try reader.read(upTo: 4)
        guard magicBytes.count == 4 else {
            throw DataError.malformed(
                file: path, problem: "too short for an IDX header: \(magicBytes.count) bytes (an IDX file starts with a 4-byte magic number)")
        }
        let magic = bigEndianUInt32(magicBytes, at: 0)
        let elementType = try checkMagic(magic, path: path, expectation: expectation)
        let rank = Int(magicBytes[3])
        guard rank > 0 else {
            throw DataError.malformed(file: path, problem: "IDX header declares 0 dimensions")
        }
        let dimensionBytes = try reader.read(upTo: 4 * rank)
        guard dimensionBytes.count == 4 * rank else {
            throw DataError.malformed(
                file: path,
                problem: "truncated IDX header: \(rank) dimensions need \(4 * rank) bytes after the magic number, found \(dimensionBytes.count)")
        }
        let dimensions = (0..<rank).map { Int(bigEndianUInt32(dimensionBytes, at: 4 * $0)) }
        let byteCount = try checkedByteCount(dimensions: dimensions, elementType: elementType, path: path)
        // Read in chunks, so that a header promising gigabytes on a short file fails as truncated
        // after reading what is there, not after allocating what the header claims.
        var rawBytes: [UInt8] = []
        var got = 0
        var chunkSize = 1 << 16  // doubling up to readChunkSize: a tiny file never allocates much
        while got < byteCount {
            let chunk = min(byteCount - got, chunkSize)
            chunkSize = min(chunkSize * 2, readChunkSize)
            rawBytes.append(contentsOf: [UInt8](repeating: 0, count: chunk))
            let read = try rawBytes.withUnsafeMutableBytes { try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[got...])) }
            got += read
            if read < chunk {
                rawBytes.removeLast(chunk - read)
                break
            }
        }
        let noun = expectation?.elementNoun ?? "data"
        guard got == byteCount else {
            let cut = reader.gzipStreamCutShort ? " (the gzip stream is cut short)" : ""
            throw DataError.malformed(
                file: path,
                problem: "truncated: expected \(byteCount) bytes of \(noun) for dimensions \(describe(dimensions)), found \(got)\(cut)")
        }
        let extra = try reader.read(upTo: 1)
        guard extra.isEmpty else {
            throw DataError.malformed(
                file: path,
                problem: "unexpected bytes after the \(byteCount) bytes of \(noun) that dimensions \(describe(dimensions)) promise; the header and the data disagree")
        }
        guard !reader.gzipStreamCutShort else {
            throw DataError.malformed(file: path, problem: "the gzip stream is cut short (its trailer, with the checksum, is missing)")
        }
        return IDXFile(elementType: elementType, dimensions: dimensions, rawBytes: rawBytes)
    }

    /// An array from parts already in memory (for tests and writers); `rawBytes` must be big-endian.
    public init(elementType: IDXElementType, dimensions: [Int], rawBytes: [UInt8]) {
        self.elementType = elementType
        self.dimensions = dimensions
        self.rawBytes = rawBytes
    }

    /// Every element converted to `Float` (doubles are rounded; 32-bit integers may lose precision).
    public func floatValues() -> [Float] {
        let count = elementCount
        return rawBytes.withUnsafeBytes { bytes in
            switch elementType {
            case .unsignedByte:
                return bytes.map { Float($0) }
            case .signedByte:
                return bytes.map { Float(Int8(bitPattern: $0)) }
            case .short:
                return (0..<count).map { Float(Int16(bitPattern: UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]))) }
            case .int:
                return (0..<count).map { Float(Int32(bitPattern: bigEndianUInt32(bytes, at: 4 * $0))) }
            case .float:
                return (0..<count).map { Float(bitPattern: bigEndianUInt32(bytes, at: 4 * $0)) }
            case .double:
                return (0..<count).map { i in
                    let high = UInt64(bigEndianUInt32(bytes, at: 8 * i)), low = UInt64(bigEndianUInt32(bytes, at: 8 * i + 4))
                    return Float(Double(bitPattern: high << 32 | low))
                }
            }
        }
    }

    /// The element type the magic number names, checked against `expectation` if there is one.
    private static func checkMagic(_ magic: UInt32, path: String, expectation: IDXExpectation?) throws -> IDXElementType {
        let shown = hex(magic)
        if let expectation, magic != expectation.magic {
            throw DataError.malformed(
                file: path, problem: "wrong IDX magic \(shown) (expected \(hex(expectation.magic)) for \(expectation.contents))")
        }
        guard magic >> 16 == 0 else {
            throw DataError.malformed(
                file: path,
                problem: "wrong IDX magic \(shown) (an IDX file starts with two zero bytes, then its element type and number of dimensions)")
        }
        let typeCode = UInt8((magic >> 8) & 0xFF)
        guard let elementType = IDXElementType(rawValue: typeCode) else {
            let known = IDXElementType.allCases.map { String(format: "0x%02X %@", $0.rawValue, $0.name) }
            throw DataError.malformed(
                file: path,
                problem: String(format: "unknown IDX element type 0x%02X in magic %@ (known: %@)", typeCode, shown, known.joined(separator: ", ")))
        }
        return elementType
    }

    /// The data size the dimensions promise, refusing sizes beyond the caps (and overflow).
    private static func checkedByteCount(dimensions: [Int], elementType: IDXElementType, path: String) throws -> Int {
        var elements = 1
        for dimension in dimensions {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= maximumElementCount else {
                throw DataError.malformed(
                    file: path,
                    problem: "IDX dimensions \(describe(dimensions)) are implausible: more than \(maximumElementCount) elements")
            }
            elements = product
        }
        let bytes = elements * elementType.byteWidth
        guard bytes <= maximumByteCount else {
            throw DataError.malformed(
                file: path,
                problem: "IDX dimensions \(describe(dimensions)) of \(elementType.name) need \(formatBytes(bytes)), more than the \(formatBytes(maximumByteCount)) accepted")
        }
        return bytes
    }
}

/// Dimensions as `60000 × 28 × 28`.
private func describe(_ dimensions: [Int]) -> String {
    dimensions.map(String.init).joined(separator: " × ")
}

/// A magic number as `0x00000803`.
private func hex(_ value: UInt32) -> String {
    String(format: "0x%08X", value)
}

/// The big-endian 32-bit word at `offset`.
private func bigEndianUInt32<Bytes: RandomAccessCollection>(_ bytes: Bytes, at offset: Int) -> UInt32
where Bytes.Element == UInt8, Bytes.Index == Int {
    let start = bytes.startIndex + offset
    return UInt32(bytes[start]) << 24 | UInt32(bytes[start + 1]) << 16 | UInt32(bytes[start + 2]) << 8 | UInt32(bytes[start + 3])
}
