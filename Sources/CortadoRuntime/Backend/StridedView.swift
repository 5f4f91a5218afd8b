/// A strided window on a buffer: element `(i₀, i₁, …)` lives at element
/// `offset + Σ iₖ·strides[k]`. Broadcast dimensions have stride 0; transposes swap strides.
package struct StridedView {
    /// The buffer holding the elements.
    package let buffer: DeviceBuffer
    /// Offset of element `(0, 0, …)`, in elements.
    package let offset: Int
    /// Extent of each dimension.
    package let shape: [Int]
    /// Step between neighbours along each dimension, in elements.
    package let strides: [Int]

    package init(buffer: DeviceBuffer, offset: Int = 0, shape: [Int], strides: [Int]) {
        precondition(shape.count == strides.count, "shape and strides differ in rank")
        self.buffer = buffer
        self.offset = offset
        self.shape = shape
        self.strides = strides
    }

    /// A contiguous row-major view of `shape` starting at `offset`.
    package init(contiguous buffer: DeviceBuffer, offset: Int = 0, shape: [Int]) {
        self.init(buffer: buffer, offset: offset, shape: shape, strides: Layout.rowMajorStrides(shape))
    }

    /// Number of elements.
    package var count: Int { shape.reduce(1, *) }

    /// The element type (the buffer's).
    package var dtype: DType { buffer.dtype }

    /// Whether the elements are dense and in row-major order.
    package var isContiguous: Bool { Layout.isContiguous(shape: shape, strides: strides) }
}

/// Shape and stride arithmetic shared by both backends.
package enum Layout {
    /// The row-major strides of `shape`.
    package static func rowMajorStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in shape.indices.reversed() {
            strides[axis] = step
            step *= max(shape[axis], 1)
        }
        return strides
    }

    /// Whether `strides` are the row-major strides of `shape` (dimensions of extent 1 may have any stride).
    package static func isContiguous(shape: [Int], strides: [Int]) -> Bool {
        var step = 1
        for axis in shape.indices.reversed() where shape[axis] != 1 {
            if strides[axis] != step { return false }
            step *= shape[axis]
        }
        return true
    }

    /// Merges neighbouring dimensions that every operand walks contiguously, and drops extent-1
    /// dimensions, so kernels index as few dimensions as possible. Returns the shape and one stride
    /// list per operand (at least one dimension).
    package static func coalesce(shape: [Int], strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
        var outShape: [Int] = []
        var outStrides: [[Int]] = Array(repeating: [], count: strides.count)
        for axis in shape.indices where shape[axis] != 1 {
            if let last = outShape.indices.last,
               strides.indices.allSatisfy({ strides[$0][axis] * shape[axis] == outStrides[$0][last] })
            {
                // The previous (outer) dimension steps exactly over this one: merge them.
                outShape[last] *= shape[axis]
                for operand in strides.indices { outStrides[operand][last] = strides[operand][axis] }
            } else {
                outShape.append(shape[axis])
                for operand in strides.indices { outStrides[operand].append(strides[operand][axis]) }
            }
        }
        if outShape.isEmpty {
            return ([1], Array(repeating: [1], count: strides.count))
        }
        return (outShape, outStrides)
    }
}
