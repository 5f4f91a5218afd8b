import COpenCL
import Foundation

/// The launches of an OpenCL backend while operations are recorded: each kernel's name, the
/// operation that launched it, its event and host enqueue time; turned into device-time spans
/// (on the host's clock) once the events have finished. Used under the backend's launch lock.
final class KernelTrace {
    private struct Launch {
        var kernel: String, operation: String, event: cl_event, enqueued: Double
    }

    private var launches: [Launch] = []
    private var operation: String?
    private var operationKernels: [String] = []
    /// Host microseconds minus device microseconds, from the first event (its queued time is its
    /// enqueue on the host).
    private var clockOffset: Double?

    /// Starts an operation: the kernels launched until ``end()`` belong to it.
    func begin(_ name: String) {
        operation = name
        operationKernels.removeAll(keepingCapacity: true)
    }

    /// Ends the operation; returns the kernels it launched.
    func end() -> [String] {
        operation = nil
        return operationKernels
    }

    /// Keeps a launch's event.
    func record(_ kernel: String, _ event: cl_event, enqueued: Double) {
        operationKernels.append(kernel)
        launches.append(Launch(kernel: kernel, operation: operation ?? "(no operation)", event: event, enqueued: enqueued))
    }

    /// The finished launches (in order, up to the first unfinished one) as spans on the host's
    /// clock, their events released.
    func takeFinished() -> [(kernel: String, operation: String, start: Double, duration: Double)] {
        var spans: [(kernel: String, operation: String, start: Double, duration: Double)] = []
        var done = 0
        for launch in launches {
            let status = clInfoValue(cl_int.self) {
                clGetEventInfo(launch.event, cl_event_info(CL_EVENT_COMMAND_EXECUTION_STATUS), $0, $1, $2)
            }
            guard status == CL_COMPLETE || status < 0 else { break }
            func time(_ what: Int32) -> Double {
                Double(clInfoValue(cl_ulong.self) { clGetEventProfilingInfo(launch.event, cl_profiling_info(what), $0, $1, $2) }) / 1000
            }
            let queued = time(CL_PROFILING_COMMAND_QUEUED), start = time(CL_PROFILING_COMMAND_START), end = time(CL_PROFILING_COMMAND_END)
            let offset = clockOffset ?? (launch.enqueued - queued)
            clockOffset = offset
            // A kernel never starts before the host enqueued it, whatever the clocks' drift.
            spans.append((launch.kernel, launch.operation, max(start + offset, launch.enqueued), max(end - start, 0)))
            clReleaseEvent(launch.event)
            done += 1
        }
        launches.removeFirst(done)
        return spans
    }

    deinit {
        launches.forEach { clReleaseEvent($0.event) }
    }
}
