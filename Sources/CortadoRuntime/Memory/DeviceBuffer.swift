import COpenCL

/// The memory behind a buffer: host memory for the CPU, a `cl_mem` for OpenCL.
package enum BufferHandle: @unchecked Sendable {
    /// 64-byte aligned host memory.
    case host(UnsafeMutableRawPointer)
    /// An OpenCL memory object.
    case openCL(cl_mem)
    /// No memory of its own: the buffer is stored in segments (``DeviceBuffer/segments``), which
    /// only ``SegmentingBackend`` takes apart; a kernel never receives one.
    case segmented

    /// The host pointer (only for CPU buffers).
    package var hostPointer: UnsafeMutableRawPointer {
        guard case let .host(pointer) = self else { preconditionFailure("not a host buffer (or a segmented one)") }
        return pointer
    }

    /// The OpenCL memory object (only for OpenCL buffers).
    package var memory: cl_mem {
        guard case let .openCL(memory) = self else { preconditionFailure("not an OpenCL buffer (or a segmented one)") }
        return memory
    }
}

/// Device memory owned by a tensor's storage: `count` elements of one element type. When the last
/// reference goes, the memory returns to its device's caching allocator for reuse instead of being
/// freed.
package final class DeviceBuffer: @unchecked Sendable {
    /// The memory (``BufferHandle/segmented`` for a buffer stored in ``segments``).
    package let handle: BufferHandle
    /// For a buffer larger than its device's allocation cap, the ordinary buffers that hold it;
    /// `nil` for an ordinary buffer.
    package let segments: BufferSegments?
    /// The element type of the contents; offsets into the buffer count elements of this type.
    package let dtype: DType
    /// Elements requested by the owner.
    package let count: Int
    /// Bytes requested by the owner (`count · dtype.byteSize`).
    package var byteCount: Int { count * dtype.byteSize }
    /// Bytes actually reserved (the allocator's size class, at least `byteCount`).
    package let capacity: Int
    private let allocator: CachingAllocator
    private let tracker: BufferLeakTracker?

    init(handle: BufferHandle, count: Int, dtype: DType, capacity: Int, allocator: CachingAllocator) {
        self.handle = handle
        self.segments = nil
        self.count = count
        self.dtype = dtype
        self.capacity = capacity
        self.allocator = allocator
        self.tracker = BufferLeakTracker.current
        tracker?.didAllocate(capacity)
    }

    /// A buffer stored in `segments` (each an ordinary buffer of the same allocator, counted and
    /// recycled on its own).
    init(segments: BufferSegments, count: Int, dtype: DType, allocator: CachingAllocator) {
        self.handle = .segmented
        self.segments = segments
        self.count = count
        self.dtype = dtype
        self.capacity = segments.buffers.reduce(0) { $0 + $1.capacity }
        self.allocator = allocator
        self.tracker = nil
    }

    deinit {
        guard segments == nil else { return }
        tracker?.didFree(capacity)
        allocator.recycle(handle, capacity: capacity)
    }

    /// Whether the buffer is stored in segments.
    package var isSegmented: Bool { segments != nil }

    /// The device whose memory this is.
    package var device: Device { allocator.device }

    /// Host pointer to the first element of a `float32` buffer (CPU buffers only).
    package var floats: UnsafeMutablePointer<Float> {
        assert(dtype == .float32, "a \(dtype) buffer read as float32")
        return handle.hostPointer.assumingMemoryBound(to: Float.self)
    }

    /// Host pointer to the first element of an `int32` buffer (CPU buffers only).
    package var ints: UnsafeMutablePointer<Int32> {
        assert(dtype == .int32, "a \(dtype) buffer read as int32")
        return handle.hostPointer.assumingMemoryBound(to: Int32.self)
    }

    /// Host pointer to the first element of a `float16` or `bfloat16` buffer, as bit patterns
    /// (CPU buffers only).
    package var halves: UnsafeMutablePointer<UInt16> {
        assert(dtype.isHalf, "a \(dtype) buffer read as 16-bit floats")
        return handle.hostPointer.assumingMemoryBound(to: UInt16.self)
    }
}

/// The ordinary buffers holding one buffer larger than the device's allocation cap: element `i` of
/// the whole is element `i mod length` of segment `i / length` (every segment holds `length`
/// elements but the last, which holds the rest).
package struct BufferSegments: @unchecked Sendable {
    /// The segments, in order.
    package let buffers: [DeviceBuffer]
    /// Elements per segment (a multiple of the tensor's row length when a row fits).
    package let length: Int

    /// The segment holding element `element`, or `nil` outside the buffer.
    package func index(of element: Int) -> Int? {
        guard element >= 0 else { return nil }
        let index = element / length
        return index < buffers.count ? index : nil
    }

    /// The elements of the whole that segment `index` holds.
    package func range(_ index: Int) -> Range<Int> {
        let start = index * length
        return start..<(start + buffers[index].count)
    }
}
