import Foundation

/// Host memory that a backend moves to and from its device: page-locked ("pinned") where the
/// device's driver transfers such memory faster than ordinary memory, ordinary memory elsewhere.
///
/// A GPU's driver can copy pinned memory by DMA directly; ordinary (pageable) memory first goes
/// through a pinned buffer of the driver's, a copy on the host and a slower transfer (NVIDIA's
/// OpenCL moved 1.4 MB of gradients at about 1 GB/s that way). CUDA programs get such memory from
/// `cudaHostAlloc`; OpenCL programs map a buffer made with `CL_MEM_ALLOC_HOST_PTR`
/// (``Backend/makeHostStaging(bytes:)``). Reads into it and writes from it go through
/// ``Backend/read(_:atByte:into:)`` and ``Backend/write(_:to:atByte:)`` as for any host memory.
/// The memory is released with the object.
package final class HostStaging: @unchecked Sendable {
    /// The memory, 64-byte aligned (`count` bytes).
    package let bytes: UnsafeMutableRawBufferPointer
    /// Whether the memory is page-locked by the device's driver (else ordinary host memory).
    package let isPinned: Bool
    private let release: () -> Void

    /// Memory at `pointer` of `count` bytes that `release` frees.
    package init(_ pointer: UnsafeMutableRawPointer, count: Int, isPinned: Bool, release: @escaping () -> Void) {
        bytes = UnsafeMutableRawBufferPointer(start: pointer, count: count)
        self.isPinned = isPinned
        self.release = release
    }

    /// Ordinary host memory of `count` bytes (at least one), 64-byte aligned.
    /// - Throws: ``CortadoError/outOfDeviceMemory(device:bytes:detail:)`` when it cannot be allocated.
    package static func ordinary(count: Int) throws -> HostStaging {
        var pointer: UnsafeMutableRawPointer?
        guard count >= 0, posix_memalign(&pointer, 64, max(count, 1)) == 0, let pointer else {
            throw CortadoError.outOfDeviceMemory(device: "host", bytes: count, detail: "staging memory for transfers")
        }
        return HostStaging(pointer, count: count, isPinned: false) { free(pointer) }
    }

    /// The memory as `count` floats from its start.
    package func floats(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition(count * MemoryLayout<Float>.stride <= bytes.count, "staging memory holds fewer floats")
        return UnsafeMutableBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: Float.self), count: count)
    }

    deinit { release() }
}
