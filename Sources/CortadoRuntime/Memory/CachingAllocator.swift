import Synchronization

/// Counters of a device's caching allocator.
public struct MemoryStatistics: Sendable, Equatable, CustomStringConvertible {
    /// Buffers currently owned by tensors.
    public var liveBuffers = 0
    /// Bytes reserved by live buffers.
    public var liveBytes = 0
    /// The most bytes live at once since start or the last ``CachingAllocator/resetPeak()``: the
    /// device memory a workload needs (cached buffers not counted).
    public var peakLiveBytes = 0
    /// Released buffers kept for reuse.
    public var cachedBuffers = 0
    /// Bytes held by cached buffers.
    public var cachedBytes = 0
    /// Device allocations made since start (`clCreateBuffer` calls, or host allocations). In a steady
    /// training loop this stops growing: every buffer comes from the cache.
    public var deviceAllocations = 0
    /// Allocations served from the cache since start.
    public var cacheHits = 0

    /// A one-line summary.
    public var description: String {
        "\(liveBuffers) live buffers (\(formatBytes(liveBytes))), \(cachedBuffers) cached "
            + "(\(formatBytes(cachedBytes))), \(deviceAllocations) device allocations, \(cacheHits) reuses"
    }
}

/// A caching allocator: released buffers are kept in free lists by size class and handed out again,
/// so a steady-state training step allocates no device memory.
///
/// Size classes have four steps per power of two (at most 25 % slack). A request takes a free buffer
/// of its own class, else one of the next four classes (at most twice its size): text batches padded
/// to their longest text change shape every step, and without that fallback each new shape was a
/// fresh allocation whose pages the kernel had to zero (10 % of a BERT fine-tuning profile).
/// Reuse is safe on an in-order queue: work enqueued after a buffer is reused runs after all
/// earlier work that used it.
package final class CachingAllocator: Sendable {
    /// The device whose memory this allocator manages.
    package let device: Device
    private let rawAllocate: @Sendable (Int) throws -> BufferHandle
    private let rawFree: @Sendable (BufferHandle) -> Void
    private let maxAllocation: Int
    private let totalMemory: Int

    private struct State: ~Copyable {
        var free: [Int: [BufferHandle]] = [:]
        var statistics = MemoryStatistics()
    }
    private let state = Mutex(State())

    /// - Parameters:
    ///   - maxAllocation: the largest single allocation the device accepts, in bytes.
    ///   - totalMemory: the device's memory in bytes: no tensor stored in segments may be larger.
    ///   - allocate: makes device memory of the given byte count; throws on failure.
    ///   - free: releases memory made by `allocate`.
    package init(
        device: Device, maxAllocation: Int, totalMemory: Int = .max,
        allocate: @escaping @Sendable (Int) throws -> BufferHandle,
        free: @escaping @Sendable (BufferHandle) -> Void
    ) {
        self.device = device
        self.maxAllocation = maxAllocation
        self.totalMemory = totalMemory
        self.rawAllocate = allocate
        self.rawFree = free
    }

    deinit {
        emptyCache()
    }

    /// How many larger size classes a request may take a free buffer from.
    static let fallbackClasses = 4

    /// The smallest size class holding `byteCount` bytes.
    package static func sizeClass(_ byteCount: Int) -> Int {
        let minimum = 256
        if byteCount <= minimum { return minimum }
        let octave = Int.bitWidth - (byteCount - 1).leadingZeroBitCount - 1  // floor(log2(byteCount - 1))
        let step = (1 << octave) / 4
        return (byteCount + step - 1) / step * step
    }

    /// A buffer of `count` elements of `dtype` (at least one element's room), from the cache when
    /// one of its size class is free.
    /// - Throws: ``CortadoError/outOfDeviceMemory(device:bytes:detail:)`` when the byte count
    ///   overflows or the device has no room even after the cache is emptied.
    package func allocate(count: Int, dtype: DType) throws -> DeviceBuffer {
        let (bytes, overflow) = Swift.max(count, 1).multipliedReportingOverflow(by: dtype.byteSize)
        guard count >= 0, !overflow, bytes <= Int.max / 2 else {
            throw CortadoError.outOfDeviceMemory(
                device: device.id, bytes: overflow ? Int.max : bytes, detail: "\(count) elements of \(dtype) is more than any device holds")
        }
        let byteCount = bytes
        let capacity = Self.sizeClass(byteCount)
        if capacity > maxAllocation {
            throw CortadoError.outOfDeviceMemory(
                device: device.id, bytes: byteCount,
                detail: "the device's largest single allocation is \(formatBytes(maxAllocation))")
        }
        let cached: (handle: BufferHandle, capacity: Int)? = state.withLock { state in
            var size = capacity
            for _ in 0..<Self.fallbackClasses + 1 {
                if let handle = state.free[size]?.popLast() {
                    state.statistics.cachedBuffers -= 1
                    state.statistics.cachedBytes -= size
                    state.statistics.cacheHits += 1
                    state.statistics.liveBuffers += 1
                    state.statistics.liveBytes += size
                    state.statistics.peakLiveBytes = max(state.statistics.peakLiveBytes, state.statistics.liveBytes)
                    return (handle, size)
                }
                size = Self.sizeClass(size + 1)
            }
            return nil
        }
        if let cached {
            return DeviceBuffer(handle: cached.handle, count: count, dtype: dtype, capacity: cached.capacity, allocator: self)
        }
        let handle: BufferHandle
        do {
            handle = try rawAllocate(capacity)
        } catch {
            // Give the cached memory back to the device and try once more before reporting.
            emptyCache()
            do {
                handle = try rawAllocate(capacity)
            } catch let error as CortadoError {
                throw error
            } catch {
                throw CortadoError.outOfDeviceMemory(device: device.id, bytes: byteCount, detail: "\(error)")
            }
        }
        state.withLock { state in
            state.statistics.deviceAllocations += 1
            state.statistics.liveBuffers += 1
            state.statistics.liveBytes += capacity
            state.statistics.peakLiveBytes = max(state.statistics.peakLiveBytes, state.statistics.liveBytes)
        }
        return DeviceBuffer(handle: handle, count: count, dtype: dtype, capacity: capacity, allocator: self)
    }

    /// The size above which a tensor's buffer is stored in segments: the device's largest single
    /// allocation, or lower (see ``AllocationCap``). A lowered cap changes only that: the backends'
    /// own scratch buffers stay limited by the device's real cap.
    package var cap: Int { AllocationCap.effective(deviceCap: maxAllocation) }

    /// A buffer for a tensor of `count` elements of `dtype` in rows of `rowLength` elements: an
    /// ordinary buffer when it fits under ``cap``, else one stored in segments of whole rows (of
    /// elements when a row alone is over the cap), which only ``SegmentingBackend`` takes apart.
    /// Equal counts, types and row lengths give equal segments, so an elementwise op over a table
    /// and its gradient pairs segment with segment.
    package func allocateTensor(count: Int, dtype: DType, rowLength: Int) throws -> DeviceBuffer {
        let (bytes, overflow) = Swift.max(count, 1).multipliedReportingOverflow(by: dtype.byteSize)
        let cap = self.cap
        guard count >= 0, !overflow, Self.sizeClass(bytes) > cap,
              let length = AllocationCap.segmentLength(cap: cap, dtype: dtype, rowLength: rowLength)
        else { return try allocate(count: count, dtype: dtype) }
        // Refused before any segment is made: drivers that overcommit (PoCL) would hand out far
        // more than they hold.
        guard bytes <= totalMemory else {
            throw CortadoError.outOfDeviceMemory(
                device: device.id, bytes: bytes, detail: "the device has \(formatBytes(totalMemory)) of memory")
        }
        var buffers: [DeviceBuffer] = []
        buffers.reserveCapacity((count + length - 1) / length)
        for start in stride(from: 0, to: count, by: length) {
            buffers.append(try allocate(count: Swift.min(length, count - start), dtype: dtype))
        }
        return DeviceBuffer(
            segments: BufferSegments(buffers: buffers, length: length), count: count, dtype: dtype, allocator: self)
    }

    /// Takes back the memory of a released buffer.
    func recycle(_ handle: BufferHandle, capacity: Int) {
        state.withLock { state in
            state.free[capacity, default: []].append(handle)
            state.statistics.liveBuffers -= 1
            state.statistics.liveBytes -= capacity
            state.statistics.cachedBuffers += 1
            state.statistics.cachedBytes += capacity
        }
    }

    /// Frees every cached buffer.
    package func emptyCache() {
        let handles: [BufferHandle] = state.withLock { state in
            let all = state.free.values.flatMap { $0 }
            state.free.removeAll()
            state.statistics.cachedBuffers = 0
            state.statistics.cachedBytes = 0
            return all
        }
        handles.forEach(rawFree)
    }

    /// Starts a new peak measurement from the bytes live now.
    package func resetPeak() {
        state.withLock { $0.statistics.peakLiveBytes = $0.statistics.liveBytes }
    }

    /// The current counters.
    package var statistics: MemoryStatistics {
        state.withLock { $0.statistics }
    }
}
