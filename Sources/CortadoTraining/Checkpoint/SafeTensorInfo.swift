/// Where one tensor lies in a safetensors file, as its header entry says.
public struct SafeTensorInfo: Sendable, Equatable {
    /// The key in the header.
    public let name: String
    /// The element type.
    public let dtype: SafeTensorsDType
    /// Extent of each dimension; `[]` for a scalar.
    public let shape: [Int]
    /// `data_offsets`: the byte range in the data section (which begins after the header).
    public let dataOffsets: Range<Int>

    /// Number of elements.
    public var elementCount: Int { dataOffsets.count / dtype.byteSize }
}
