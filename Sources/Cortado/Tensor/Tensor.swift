/// An n-dimensional array on a device, with reverse-mode automatic differentiation.
///
/// A tensor is a strided view of a device buffer: reshaping a contiguous tensor, transposing,
/// slicing and broadcasting make new views of the same memory; operations produce new tensors.
/// Operations are enqueued on the device and return at once; reading values waits for them.
///
/// ```swift
/// let x = try Tensor([1, 2, 3, 4], shape: [2, 2], device: .cpu)
/// let w = try Tensor.normal([2, 2], device: .cpu).requiringGrad()
/// let loss = try (x.matmul(w)).relu().sum()
/// try loss.backward()
/// print(try w.grad!.toArray())
/// ```
public final class Tensor {
    /// Extent of each dimension.
    public let shape: [Int]
    /// Element type.
    public let dtype: DType
    /// The memory holding the elements (possibly shared with other views).
    package private(set) var buffer: DeviceBuffer
    /// Element step along each dimension.
    package let strides: [Int]
    /// Element offset of the first element in `buffer`.
    package let offset: Int
    /// The backend running this tensor's device.
    package let backend: any Backend

    /// Whether gradients flow to this tensor. Set it on leaves (parameters); results of operations
    /// on such tensors require gradients too.
    public var requiresGrad: Bool
    /// The accumulated gradient, after ``backward(gradient:)``; `nil` before.
    public package(set) var grad: Tensor?
    /// How this tensor was computed, for the backward pass (`nil` for leaves).
    package var gradFunction: GradFunction?

    package init(
        buffer: DeviceBuffer, backend: any Backend, shape: [Int], strides: [Int], offset: Int,
        dtype: DType, requiresGrad: Bool = false
    ) {
        self.buffer = buffer
        self.backend = backend
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.dtype = dtype
        self.requiresGrad = requiresGrad
    }

    /// Whether no other tensor, view or caller holds this tensor's memory (so it may be changed in
    /// place without anyone else seeing it).
    package func holdsBufferAlone() -> Bool { isKnownUniquelyReferenced(&buffer) }

    /// The device holding the tensor.
    public var device: Device { backend.device }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Whether the elements are dense and row-major.
    public var isContiguous: Bool { Layout.isContiguous(shape: shape, strides: strides) }
    /// Whether this tensor was created directly rather than computed by a recorded operation.
    public var isLeaf: Bool { gradFunction == nil }

    /// The tensor as a strided view for the backend.
    package var view: StridedView {
        StridedView(buffer: buffer, offset: offset, shape: shape, strides: strides)
    }

    /// A new, uninitialised contiguous tensor on `backend`.
    package static func empty(_ shape: [Int], dtype: DType = .float32, on backend: any Backend) throws -> Tensor {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw CortadoError.invalidArgument("negative extent in shape \(shape)")
        }
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow else {
                throw CortadoError.outOfDeviceMemory(device: backend.device.id, bytes: Int.max, detail: "shape \(shape) has more elements than any device holds")
            }
            count = product
        }
        // Past the device's allocation cap the buffer is stored in segments of whole rows (along
        // the first axis), which the backend's segmenting layer takes apart op by op.
        let rowLength = shape.count > 1 ? count / Swift.max(shape[0], 1) : 1
        let buffer = try backend.allocator.allocateTensor(count: count, dtype: dtype, rowLength: rowLength)
        return Tensor(
            buffer: buffer, backend: backend, shape: shape, strides: Layout.rowMajorStrides(shape), offset: 0,
            dtype: dtype)
    }

    /// A new view of this tensor's memory (no gradient history).
    package func makeView(shape: [Int], strides: [Int], offset: Int) -> Tensor {
        Tensor(buffer: buffer, backend: backend, shape: shape, strides: strides, offset: offset, dtype: dtype)
    }

    /// The same values without gradient history: a view that never requires gradients.
    public func detached() -> Tensor {
        makeView(shape: shape, strides: strides, offset: offset)
    }

    /// Marks this tensor as a parameter whose gradient ``backward(gradient:)`` accumulates.
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        requiresGrad = flag
        return self
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() {
        grad = nil
    }

    /// Throws unless every tensor lives on this tensor's device.
    package func checkSameDevice(_ op: String, _ others: Tensor...) throws {
        for other in others where other.backend !== backend {
            throw CortadoError.deviceMismatch(op: op, devices: [device.id, other.device.id])
        }
    }

    /// Throws unless this tensor's device runs `operation` in its element type and every tensor of
    /// `others` has that type too (`name` is the op in the message).
    package func requireSupport(_ operation: BackendOperation, _ name: String, _ others: Tensor?...) throws {
        for other in others.compactMap({ $0 }) where other.dtype != dtype {
            throw CortadoError.dtypeMismatch(op: name, dtypes: [dtype, other.dtype])
        }
        try backend.require(operation, dtype, name)
    }

    /// Throws unless this tensor is a `float32` mask (1 to keep, 0 to drop), whatever the type of
    /// the values it masks.
    package func requireMask(_ name: String) throws {
        guard dtype == .float32 else {
            throw CortadoError.invalidArgument("\(name): a mask holds float32 ones and zeros, not \(dtype)")
        }
    }

    /// Normalises a possibly negative axis.
    package func axis(_ axis: Int, _ op: String) throws -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0 && resolved < Swift.max(rank, 1) else {
            throw CortadoError.invalidArgument("\(op): axis \(axis) is out of range for shape \(shape)")
        }
        return resolved
    }
}

extension Tensor: CustomStringConvertible {
    /// Shape, element type and device, e.g. `Tensor([2, 3], float32, opencl:0)`.
    public var description: String {
        "Tensor(\(shape), \(dtype), \(device))"
    }
}
