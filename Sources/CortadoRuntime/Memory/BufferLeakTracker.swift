import Synchronization

/// Counts the buffers allocated inside a scope that are still alive, on every device.
///
/// Tracking is task-local, so concurrently running code outside the scope does not disturb the
/// count: `let tracker = BufferLeakTracker(); tracker.track { … }; tracker.liveBuffers == 0`
/// means everything allocated in the scope was released.
public final class BufferLeakTracker: Sendable {
    @TaskLocal static var current: BufferLeakTracker?

    private let counters = Mutex((buffers: 0, bytes: 0, allocated: 0))

    /// A tracker with nothing counted yet.
    public init() {}

    /// Runs `body`, counting the buffers it allocates.
    public func track<R>(_ body: () throws -> R) rethrows -> R {
        try Self.$current.withValue(self, operation: body)
    }

    /// Buffers allocated while tracking that are still alive.
    public var liveBuffers: Int { counters.withLock { $0.buffers } }
    /// Bytes held by those buffers.
    public var liveBytes: Int { counters.withLock { $0.bytes } }
    /// Buffers allocated (or reused from a cache) while tracking.
    public var allocatedBuffers: Int { counters.withLock { $0.allocated } }

    func didAllocate(_ bytes: Int) {
        counters.withLock {
            $0.buffers += 1
            $0.bytes += bytes
            $0.allocated += 1
        }
    }

    func didFree(_ bytes: Int) {
        counters.withLock {
            $0.buffers -= 1
            $0.bytes -= bytes
        }
    }
}
