import COpenCL

/// The memory behind a buffer: host memory for the CPU, a `cl_mem` for OpenCL.
package enum BufferHandle: @unchecked Sendable {
    /// 64-byte aligned host memory.
    case host(UnsafeMutableRawPointer)
    /// An OpenCL memory object.
    case openCL(cl_mem)

    /// The host pointer (only for CPU buffers).
    package var hostPointer: UnsafeMutableRawPointer {
        guard case let .host(pointer) = self else { preconditionFailure("not a host buffer") }
        return pointer
    }

    /// The OpenCL memory object (only for OpenCL buffers).
    package var memory: cl_mem {
        guard case let .openCL(memory) = self else { preconditionFailure("not an OpenCL buffer") }
        return memory
    }
}

/// Device memory owned by a tensor's storage: `count` elements of one element type. When the last
/// reference goes, the memory returns to its device's caching allocator for reuse instead of being
/// freed.
package final class DeviceBuffer: @unchecked Sendable {
    /// The memory.
    package let handle: BufferHandle
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
        self.count = count
        self.dtype = dtype
        self.capacity = capacity
        self.allocator = allocator
        self.tracker = BufferLeakTracker.current
        tracker?.didAllocate(capacity)
    }

    deinit {
        tracker?.didFree(capacity)
        allocator.recycle(handle, capacity: capacity)
    }

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
