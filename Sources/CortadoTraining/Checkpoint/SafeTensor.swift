import Cortado

/// One named tensor as a safetensors file stores it: element type, shape and little-endian,
/// row-major bytes.
public struct SafeTensor: Sendable, Equatable {
    /// The key in the file's header, e.g. `conv1.weight`.
    public let name: String
    /// The element type.
    public let dtype: SafeTensorsDType
    /// Extent of each dimension; `[]` for a scalar.
    public let shape: [Int]
    /// The elements, little-endian and row-major: `elementCount × dtype.byteSize` bytes.
    public let bytes: [UInt8]
    /// Number of elements (1 for a scalar, 0 when a dimension is 0).
    public let elementCount: Int

    /// A tensor from raw little-endian bytes.
    /// - Throws: ``CortadoError/shapeMismatch(_:)`` unless `bytes` holds exactly the elements of `shape`.
    public init(name: String, dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) throws {
        guard let count = checkedElementCount(shape),
              let byteCount = count.multipliedOrNil(by: dtype.byteSize), byteCount == bytes.count
        else {
            throw CortadoError.shapeMismatch(
                "tensor '\(name)': \(bytes.count) bytes cannot fill shape \(shape) of \(dtype)")
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
        self.elementCount = count
    }

    /// An `F32` tensor holding `values` in row-major order.
    public init(name: String, values: [Float], shape: [Int]) throws {
        try self.init(name: name, dtype: .float32, shape: shape, bytes: littleEndianBytes(values.map(\.bitPattern)))
    }

    /// An `I32` tensor holding `indices` in row-major order.
    public init(name: String, indices: [Int32], shape: [Int]) throws {
        try self.init(name: name, dtype: .int32, shape: shape, bytes: littleEndianBytes(indices))
    }
}

/// A tensor to write whose bytes the writer asks for only when it reaches it, so that a file of
/// many device tensors holds one tensor at a time in host memory.
public struct PendingSafeTensor {
    /// The key in the file's header.
    public let name: String
    /// The element type.
    public let dtype: SafeTensorsDType
    /// Extent of each dimension.
    public let shape: [Int]
    /// Produces the tensor's little-endian bytes; it must return exactly the bytes of `shape`,
    /// and when it throws, the write stops and the destination keeps its old contents.
    public let bytes: () throws -> [UInt8]

    /// A tensor whose bytes `bytes` produces when the writer reaches it.
    public init(name: String, dtype: SafeTensorsDType, shape: [Int], bytes: @escaping () throws -> [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// A tensor whose bytes are already in memory.
    public init(_ tensor: SafeTensor) {
        self.init(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape) { tensor.bytes }
    }
}

/// The product of `shape`, or `nil` when an extent is negative or the product overflows `Int`.
func checkedElementCount(_ shape: [Int]) -> Int? {
    var count = 1
    for extent in shape {
        guard extent >= 0, let product = count.multipliedOrNil(by: extent) else { return nil }
        count = product
    }
    return count
}

/// The bytes of fixed-width integers, least significant byte first.
func littleEndianBytes<Element: FixedWidthInteger>(_ values: [Element]) -> [UInt8] {
    values.map(\.littleEndian).withUnsafeBytes { Array($0) }
}

extension Int {
    /// `self × other`, or `nil` on overflow.
    func multipliedOrNil(by other: Int) -> Int? {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? nil : product
    }

    /// `self + other`, or `nil` on overflow.
    func addingOrNil(_ other: Int) -> Int? {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? nil : sum
    }
}
