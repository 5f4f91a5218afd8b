import COpenCL
import Foundation

/// Pinned host memory: what the backend's uploads are staged in, and what callers that move the
/// same bytes every step (the gradient all-reduce's buckets) read into.
///
/// A buffer made with `CL_MEM_ALLOC_HOST_PTR` and mapped once gives host memory that a GPU's
/// driver allocates page-locked (OpenCL's counterpart of CUDA's `cudaHostAlloc`);
/// `clEnqueueReadBuffer`/`clEnqueueWriteBuffer` with that memory as their host side can then run
/// as direct DMA transfers. On a CPU device (PoCL) the buffer is ordinary host memory and the
/// transfers stay `memcpy`s. Where the driver refuses such a buffer, ordinary memory stands in.
extension OpenCLBackend {
    /// Upload staging blocks are kept for reuse up to this many bytes in all.
    static let stagingPoolBytes = 64 << 20
    /// The smallest upload staging block.
    static let smallestStagingBlock = 4096

    package func makeHostStaging(bytes: Int) throws -> HostStaging {
        guard bytes > 0 else { return try HostStaging.ordinary(count: 0) }
        var status: cl_int = 0
        var memory: cl_mem?
        status = CLFaultInjection.intercept("clCreateBuffer", nil) {
            var status: cl_int = 0
            memory = clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR), bytes, nil, &status)
            return status
        }
        guard status == CL_SUCCESS, let memory else { return try HostStaging.ordinary(count: bytes) }
        var pointer: UnsafeMutableRawPointer?
        status = CLFaultInjection.intercept("clEnqueueMapBuffer", nil) {
            var status: cl_int = 0
            pointer = clEnqueueMapBuffer(
                stagingQueue, memory, cl_bool(CL_TRUE), cl_map_flags(CL_MAP_READ | CL_MAP_WRITE), 0, bytes, 0, nil, nil, &status)
            return status
        }
        guard status == CL_SUCCESS, let pointer, Int(bitPattern: pointer) % 64 == 0 else {
            if status == CL_SUCCESS, let pointer { clEnqueueUnmapMemObject(stagingQueue, memory, pointer, 0, nil, nil) }
            clReleaseMemObject(memory)
            return try HostStaging.ordinary(count: bytes)
        }
        // The block may outlive the backend: it keeps the queue that unmaps it.
        let queue = UncheckedSendable(stagingQueue), mapped = UncheckedSendable(memory)
        clRetainCommandQueue(queue.value)
        return HostStaging(pointer, count: bytes, isPinned: true) {
            clEnqueueUnmapMemObject(queue.value, mapped.value, pointer, 0, nil, nil)
            clReleaseMemObject(mapped.value)  // freed once the unmap has run
            clReleaseCommandQueue(queue.value)
        }
    }

    /// A staging block of at least `count` bytes for one upload: a free one of its size class (the
    /// next power of two, at least ``smallestStagingBlock``), else a new one.
    func uploadStaging(count: Int) throws -> HostStaging {
        let size = Self.stagingSize(count)
        let reused = launchState.withLock { state -> HostStaging? in
            guard let block = state.freeStaging[size]?.popLast() else {
                state.stagingBlocksMade += 1
                return nil
            }
            state.freeStagingBytes -= size
            return block
        }
        return try reused ?? makeHostStaging(bytes: size)
    }

    /// Returns an upload's staging block to the free blocks, or releases it when they already hold
    /// ``stagingPoolBytes``.
    func giveBack(_ staging: HostStaging, _ state: inout LaunchState) {
        let size = staging.bytes.count
        guard size == Self.stagingSize(size), state.freeStagingBytes + size <= Self.stagingPoolBytes else { return }
        state.freeStaging[size, default: []].append(staging)
        state.freeStagingBytes += size
    }

    /// Upload staging blocks made since start: after the first steps of a training run, none.
    package var stagingBlocksMade: Int { launchState.withLock { $0.stagingBlocksMade } }

    /// The size class of an upload of `count` bytes.
    static func stagingSize(_ count: Int) -> Int {
        max(smallestStagingBlock, count <= 1 ? 1 : 1 << (Int.bitWidth - (count - 1).leadingZeroBitCount))
    }
}
