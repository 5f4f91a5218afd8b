import Foundation

/// Chrome's Trace Event format (the JSON that chrome://tracing, Perfetto and speedscope open):
/// one complete event (`"ph": "X"`) per `Profiler.Span`, with its start and duration in
/// microseconds, the process and thread, and the span's arguments.
public enum ChromeTrace {
    /// The JSON document of `spans`, sorted by start time; `process` names the process row, whose
    /// number is `processID`. `lanes` names rows that are not host threads (a device's kernels) by
    /// their thread number. `timeOffset` microseconds are added to every start (the profiler's
    /// ``Profiler/wallClockOrigin``, so that the traces of several processes line up).
    public static func json(
        _ spans: [Profiler.Span], process: String = "cortado", processID: Int = 1, lanes: [Int: String] = [:],
        timeOffset: Double = 0
    ) throws -> Data {
        var events: [[String: Any]] = [
            ["name": "process_name", "ph": "M", "pid": processID, "tid": 0, "args": ["name": process]],
        ]
        for thread in Set(spans.map(\.thread)).sorted() {
            events.append(["name": "thread_name", "ph": "M", "pid": processID, "tid": thread,
                           "args": ["name": lanes[thread] ?? (thread == 0 ? "main" : "thread \(thread)")]])
        }
        for span in spans.sorted(by: { ($0.start, -$0.duration) < ($1.start, -$1.duration) }) {
            var event: [String: Any] = [
                "name": span.name, "cat": span.category, "ph": "X", "pid": processID, "tid": span.thread,
                "ts": ((span.start + timeOffset) * 1000).rounded() / 1000, "dur": (span.duration * 1000).rounded() / 1000,
            ]
            if !span.arguments.isEmpty { event["args"] = span.arguments }
            events.append(event)
        }
        return try JSONSerialization.data(withJSONObject: ["traceEvents": events, "displayTimeUnit": "ms"], options: [.sortedKeys])
    }

    /// Writes the trace of `spans` to `url` atomically (the other arguments as in
    /// ``json(_:process:processID:lanes:timeOffset:)``).
    /// - Throws: ``FormatError`` naming the file when it cannot be written.
    public static func write(
        _ spans: [Profiler.Span], to url: URL, process: String = "cortado", processID: Int = 1, lanes: [Int: String] = [:],
        timeOffset: Double = 0
    ) throws {
        do {
            try json(spans, process: process, processID: processID, lanes: lanes, timeOffset: timeOffset)
                .write(to: url, options: .atomic)
        } catch {
            throw FormatError(url, "cannot be written: \(error.localizedDescription)")
        }
    }
}
