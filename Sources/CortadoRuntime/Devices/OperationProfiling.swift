import Synchronization

/// Switches for recording individual operations, set before the devices are first used: a
/// device's backend is made once per process, with or without the recording, so a run that does
/// not profile pays nothing (no wrapper, no OpenCL events, no profiling queue).
public enum OperationProfiling {
    private static let events = Atomic<Bool>(false)
    private static let operations = Atomic<Bool>(false)

    /// Creates OpenCL queues with `CL_QUEUE_PROFILING_ENABLE` from now on, so
    /// ``Device/profileKernels(_:)`` can read device times (as `cortado bench` does).
    public static func enableEventProfiling() {
        events.store(true, ordering: .relaxed)
    }

    /// Records every operation of the devices first used from now on into ``Profiler/current``
    /// (when one is installed): its device, host time, layer and step, and on OpenCL its kernels
    /// and their device time (event profiling, read back whenever the host waits for the device).
    public static func enableOperationRecording() {
        operations.store(true, ordering: .relaxed)
        events.store(true, ordering: .relaxed)
    }

    /// Whether OpenCL queues made now profile their events.
    package static var eventProfiling: Bool { events.load(ordering: .relaxed) }
    /// Whether backends made now record their operations.
    package static var recordsOperations: Bool { operations.load(ordering: .relaxed) }
}
