import Foundation

/// Records timed spans of work (a training step, its forward and backward passes, an evaluation)
/// while it is installed as ``Profiler/current``; `cortado … --profile FILE` writes them as a Chrome
/// trace (CortadoFormats' `ChromeTrace`), which chrome://tracing and Perfetto open.
///
/// Spans measure the host: on OpenCL devices, operations are enqueued without waiting, so device
/// work shows where the host waits for it (reading values back).
public final class Profiler: @unchecked Sendable {
    /// One finished span.
    public struct Span: Sendable, Equatable {
        /// What ran, e.g. `step` or `forward`.
        public var name: String
        /// Its group, e.g. `train` or `evaluate`.
        public var category: String
        /// Start, in microseconds since the profiler was made.
        public var start: Double
        /// Duration in microseconds.
        public var duration: Double
        /// A small number for the thread it ran on (0 for the first thread seen).
        public var thread: Int
        /// Extra values shown with the span (the epoch, the step).
        public var arguments: [String: String]

        /// Creates a span.
        public init(name: String, category: String, start: Double, duration: Double, thread: Int, arguments: [String: String]) {
            self.name = name
            self.category = category
            self.start = start
            self.duration = duration
            self.thread = thread
            self.arguments = arguments
        }
    }

    private struct State {
        var spans: [Span] = []
        var threads: [UInt: Int] = [:]
    }

    private let origin = DispatchTime.now().uptimeNanoseconds
    private let state = Locked(State())
    private static let installed = Locked<Profiler?>(nil)

    /// Creates an empty profiler (install it with ``current`` to record).
    public init() {}

    /// The profiler that ``profiled(_:category:arguments:_:)`` records into, or `nil` (the default:
    /// nothing is recorded and spans cost one lock read).
    public static var current: Profiler? {
        get { installed.withLock { $0 } }
        set { installed.withLock { $0 = newValue } }
    }

    /// The spans recorded so far, in the order they ended.
    public var spans: [Span] { state.withLock { $0.spans } }

    /// Microseconds since the profiler was made.
    public func now() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds &- origin) / 1000
    }

    /// Records a span that started at `start` (from ``now()``) and ends now.
    public func record(_ name: String, category: String, since start: Double, arguments: [String: String] = [:]) {
        let end = now()
        let thread = UInt(bitPattern: Thread.current.hash)
        state.withLock { state in
            let id = state.threads[thread] ?? state.threads.count
            state.threads[thread] = id
            state.spans.append(Span(name: name, category: category, start: start, duration: end - start, thread: id, arguments: arguments))
        }
    }

    /// Starts a span of ``current`` (if one is installed) that ``Interval/end()`` finishes: for work
    /// that does not fit one closure.
    public static func begin(_ name: String, category: String, arguments: [String: String] = [:]) -> Interval {
        Interval(profiler: current, name: name, category: category, arguments: arguments)
    }

    /// A span begun with ``begin(_:category:arguments:)``.
    public struct Interval {
        let profiler: Profiler?
        let name: String, category: String, arguments: [String: String]
        let start: Double

        init(profiler: Profiler?, name: String, category: String, arguments: [String: String]) {
            self.profiler = profiler
            self.name = name
            self.category = category
            self.arguments = arguments
            start = profiler?.now() ?? 0
        }

        /// Records the span, from its beginning to now.
        public func end() {
            profiler?.record(name, category: category, since: start, arguments: arguments)
        }
    }

    /// Runs `body` and records it as a span.
    public func span<T>(_ name: String, category: String, arguments: [String: String] = [:], _ body: () throws -> T) rethrows -> T {
        let start = now()
        defer { record(name, category: category, since: start, arguments: arguments) }
        return try body()
    }
}

/// Runs `body`, recorded as a span of ``Profiler/current`` when one is installed.
public func profiled<T>(_ name: String, category: String, arguments: [String: String] = [:], _ body: () throws -> T) rethrows -> T {
    guard let profiler = Profiler.current else { return try body() }
    return try profiler.span(name, category: category, arguments: arguments, body)
}
