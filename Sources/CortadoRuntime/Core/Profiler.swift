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
        /// Each thread's open spans (name, category, arguments), innermost last: the context of
        /// the operations recorded inside them.
        var open: [Int: [(name: String, category: String, arguments: [String: String])]] = [:]
        /// Named rows of the trace that are not host threads (an OpenCL device's kernels).
        var lanes: [String: Int] = [:]

        mutating func thread(_ key: UInt) -> Int {
            let id = threads[key] ?? threads.count
            threads[key] = id
            return id
        }
    }

    private let origin = DispatchTime.now().uptimeNanoseconds
    /// When the profiler was made, in microseconds of the wall clock since 1970: the time base that
    /// lines up the traces of several processes (the ranks of an MPI job).
    public let wallClockOrigin = Date().timeIntervalSince1970 * 1_000_000
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
            let id = state.thread(thread)
            state.spans.append(Span(name: name, category: category, start: start, duration: end - start, thread: id, arguments: arguments))
        }
    }

    /// Marks a span as open on this thread, so operations recorded inside it carry its step,
    /// layer and phase; ``close(_:category:)`` ends it.
    func open(_ name: String, category: String, arguments: [String: String]) {
        let thread = UInt(bitPattern: Thread.current.hash)
        state.withLock { state in state.open[state.thread(thread), default: []].append((name, category, arguments)) }
    }

    /// Ends the innermost open span `name` of `category` on this thread.
    func close(_ name: String, category: String) {
        let thread = UInt(bitPattern: Thread.current.hash)
        state.withLock { state in
            let id = state.thread(thread)
            if let index = state.open[id]?.lastIndex(where: { $0.name == name && $0.category == category }) {
                state.open[id]?.remove(at: index)
            }
        }
    }

    /// The innermost open span of category `layer` on this thread, if any.
    public func currentLayer() -> String? {
        let thread = UInt(bitPattern: Thread.current.hash)
        return state.withLock { state in state.open[state.thread(thread)]?.last { $0.category == "layer" }?.name }
    }

    /// Records one backend operation that started at `start` and ends now, on `device`, with the
    /// OpenCL kernels it launched (`cpu` for the CPU backend), in the context of the spans open on
    /// this thread: its `step` (or evaluation `batch`), `layer` (the innermost span of category `layer`) and `phase` (the
    /// innermost other span, such as `forward`, `backward`, `optimizer` or `evaluate`).
    public func recordOperation(_ name: String, device: String, kernels: [String], since start: Double) {
        let end = now()
        let thread = UInt(bitPattern: Thread.current.hash)
        state.withLock { state in
            let id = state.thread(thread)
            var arguments = ["device": device, "kernel": kernels.isEmpty ? (device == "cpu" ? "cpu" : "none") : kernels.joined(separator: ", ")]
            for entry in (state.open[id] ?? []).reversed() {
                if arguments["step"] == nil, let step = entry.arguments["step"] { arguments["step"] = step }
                if arguments["batch"] == nil, let batch = entry.arguments["batch"] { arguments["batch"] = batch }
                if entry.category == "layer" {
                    if arguments["layer"] == nil { arguments["layer"] = entry.name }
                } else if arguments["phase"] == nil, entry.name != "step", entry.name != "batch" {
                    arguments["phase"] = entry.name
                }
            }
            state.spans.append(Span(name: name, category: "op", start: start, duration: end - start, thread: id, arguments: arguments))
        }
    }

    /// Records a span on the named row `lane` (such as `opencl:0 kernels`) rather than a thread.
    public func record(_ name: String, category: String, lane: String, start: Double, duration: Double, arguments: [String: String]) {
        state.withLock { state in
            let id = state.lanes[lane] ?? 1000 + state.lanes.count
            state.lanes[lane] = id
            state.spans.append(Span(name: name, category: category, start: start, duration: duration, thread: id, arguments: arguments))
        }
    }

    /// The names of the trace's rows that are not host threads, by their ``Span/thread`` number.
    public var laneNames: [Int: String] {
        state.withLock { state in Dictionary(uniqueKeysWithValues: state.lanes.map { ($1, $0) }) }
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
            profiler?.open(name, category: category, arguments: arguments)
        }

        /// Records the span, from its beginning to now.
        public func end() {
            profiler?.close(name, category: category)
            profiler?.record(name, category: category, since: start, arguments: arguments)
        }
    }

    /// Runs `body` and records it as a span.
    public func span<T>(_ name: String, category: String, arguments: [String: String] = [:], _ body: () throws -> T) rethrows -> T {
        let start = now()
        open(name, category: category, arguments: arguments)
        defer {
            close(name, category: category)
            record(name, category: category, since: start, arguments: arguments)
        }
        return try body()
    }
}

/// Runs `body` as part of `layer` for the operations ``Profiler/current`` records (the backward
/// pass of a layer's operations), without a span of its own.
public func profiledLayer<T>(_ layer: String?, _ body: () throws -> T) rethrows -> T {
    guard let layer, let profiler = Profiler.current else { return try body() }
    profiler.open(layer, category: "layer", arguments: [:])
    defer { profiler.close(layer, category: "layer") }
    return try body()
}

/// Runs `body`, recorded as a span of ``Profiler/current`` when one is installed.
public func profiled<T>(_ name: String, category: String, arguments: [String: String] = [:], _ body: () throws -> T) rethrows -> T {
    guard let profiler = Profiler.current else { return try body() }
    return try profiler.span(name, category: category, arguments: arguments, body)
}
