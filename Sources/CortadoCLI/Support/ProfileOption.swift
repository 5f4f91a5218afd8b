import ArgumentParser
import Cortado
import CortadoFormats
import Foundation

/// `--profile FILE` and `--verbose`: a Chrome trace of the command's spans and of every operation
/// (device, kernels, host and OpenCL device time, step and layer), and a per-operation table.
struct ProfileOption: ParsableArguments {
    @Option(help: "Write a Chrome trace (Trace Event JSON, for chrome://tracing or ui.perfetto.dev) to this file: the command's phases (epochs, steps, forward, backward, optimizer), each layer, and every operation with its device, its kernels, its host time and, on OpenCL, each kernel's device time (event profiling; rank 0 under mpirun).")
    var profile: String?

    @Flag(help: "With --profile: print a table of the operations at the end (count, total and mean host time, device time per device).")
    var verbose = false

    /// Turns operation recording on before any device is used and makes a profiler, installed
    /// unless `install` is false (the caller installs it when the work to trace begins); `nil`
    /// without `--profile` (or for a quiet rank), when nothing is recorded.
    func start(quiet: Bool = false, install: Bool = true) -> Profiler? {
        guard profile != nil, !quiet else { return nil }
        OperationProfiling.enableOperationRecording()
        let profiler = Profiler()
        if install { Profiler.current = profiler }
        return profiler
    }

    /// Waits for `devices`, uninstalls the profiler and writes the trace (an error is reported, not
    /// thrown: the command's own result stands), then with `--verbose` prints the table on stderr.
    func finish(_ profiler: Profiler?, devices: [Device], process: String) {
        guard let profiler, let profile else { return }
        for device in devices { try? device.synchronize() }  // the last kernels' device times
        Profiler.current = nil
        let spans = profiler.spans
        do {
            try ChromeTrace.write(spans, to: URL(fileURLWithPath: profile), process: process, lanes: profiler.laneNames)
        } catch {
            Terminal.note("Error: \(error)")
        }
        if verbose { Terminal.note(Self.table(OperationSummary.summarize(spans))) }
    }

    /// The per-operation table.
    static func table(_ rows: [OperationSummary]) -> String {
        func ms(_ value: Double) -> String { String(format: "%.3f", value) }
        return Terminal.table(
            ["op", "device", "count", "host total ms", "host mean ms", "device total ms", "device mean ms"],
            rows.map { row in
                [row.operation, row.device, "\(row.count)", ms(row.hostMilliseconds), ms(row.meanHostMilliseconds),
                 row.deviceMilliseconds.map(ms) ?? "-", row.deviceMilliseconds.map { ms($0 / Double(max(row.count, 1))) } ?? "-"]
            })
    }
}
