import ArgumentParser
import Cortado
import CortadoFormats
import CortadoTraining
import Foundation
import Synchronization

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
    /// - Throws: when the trace file could not be written (checked before any work, as `--save`).
    func start(quiet: Bool = false, install: Bool = true) throws -> Profiler? {
        guard let profile, !quiet else { return nil }
        do {
            try SafeTensors.checkWritable(URL(fileURLWithPath: profile))
        } catch {
            throw TrainingError.invalidOption("--profile: \(error)")
        }
        OperationProfiling.enableOperationRecording()
        let profiler = Profiler()
        if install { Profiler.current = profiler }
        return profiler
    }

    /// Waits for `devices`, uninstalls the profiler and writes the trace, then with `--verbose`
    /// prints the table on stderr. A write that fails all the same (a full disk) is reported and
    /// makes the process exit with status 1 after the command (``LateFailure``), without hiding
    /// the command's own result or error.
    func finish(_ profiler: Profiler?, devices: [Device], process: String) {
        guard let profiler, let profile else { return }
        for device in devices { try? device.synchronize() }  // the last kernels' device times
        Profiler.current = nil
        let spans = profiler.spans
        do {
            try ChromeTrace.write(spans, to: URL(fileURLWithPath: profile), process: process, lanes: profiler.laneNames)
        } catch {
            Terminal.note("Error: \(error)")
            LateFailure.record()
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

/// A failure found after a command had done its work (writing its `--profile` trace), which must
/// still end the process with a non-zero status.
enum LateFailure {
    private static let failed = Atomic(false)

    /// Marks the run as failed.
    static func record() { failed.store(true, ordering: .relaxed) }

    /// Whether ``record()`` was called.
    static var happened: Bool { failed.load(ordering: .relaxed) }
}
