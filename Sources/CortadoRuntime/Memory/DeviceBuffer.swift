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

/// Device memory owned by a tensor's storage. When the last reference goes, the memory returns to
/// its device's caching allocator for reuse instead of being freed.
package final class DeviceBuffer: @unchecked Sendable {
    /// The memory.
    package let handle: BufferHandle
    /// Bytes requested by the owner.
    package let byteCount: Int
    /// Bytes actually reserved (the allocator's size class, at least `byteCount`).
    package let capacity: Int
    private let allocator: CachingAllocator
    private let tracker: BufferLeakTracker?

    init(handle: BufferHandle, byteCount: Int, capacity: Int, allocator: CachingAllocator) {
        self.handle = handle
        self.byteCount = byteCount
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

    /// Host pointer to the first element (CPU buffers only).
    package var floats: UnsafeMutablePointer<Float> {
        handle.hostPointer.assumingMemoryBound(to: Float.self)
    }

    /// Host pointer to the first element as `int32` (CPU buffers only).
    package var ints: UnsafeMutablePointer<Int32> {
        handle.hostPointer.assumingMemoryBound(to: Int32.self)
    }
}
