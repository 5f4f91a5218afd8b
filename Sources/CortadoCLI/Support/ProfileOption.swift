import ArgumentParser
import Cortado
import CortadoFormats
import CortadoTraining
import Foundation
import Synchronization

/// `--profile FILE` and `--verbose`: a Chrome trace of the command's spans and of every operation
/// (device, kernels, host and OpenCL device time, step and layer), and a per-operation table.
struct ProfileOption: ParsableArguments {
    @Option(help: "Write a Chrome trace (Trace Event JSON, for chrome://tracing or ui.perfetto.dev) to this file: the command's phases (epochs, steps, forward, backward, optimizer), each layer, and every operation with its device, its kernels, its host time and, on OpenCL, each kernel's device time (event profiling; under mpirun, train writes one per rank: rank N's to NAME.rankN.json, on a common wall clock).")
    var profile: String?

    @Flag(help: "With --profile: print a table of the operations at the end (count, total and mean host time, device time per device).")
    var verbose = false

    /// Turns operation recording on before any device is used and makes a profiler, installed
    /// unless `install` is false (the caller installs it when the work to trace begins); `nil`
    /// without `--profile`, when nothing is recorded. `rank` is the process's rank in an MPI job
    /// of several ranks (`nil` alone): each rank records its own trace (``path(rank:)``).
    /// - Throws: when the trace file could not be written (checked before any work, as `--save`).
    func start(rank: Int? = nil, install: Bool = true) throws -> Profiler? {
        guard let path = path(rank: rank) else { return nil }
        do {
            try SafeTensors.checkWritable(URL(fileURLWithPath: path))
        } catch {
            throw TrainingError.invalidOption("--profile: \(error)")
        }
        OperationProfiling.enableOperationRecording()
        let profiler = Profiler()
        if install { Profiler.current = profiler }
        return profiler
    }

    /// The trace file of `rank`: `--profile` itself for a process alone and for rank 0, else the
    /// same name with `.rankN` before its extension (`trace.json` → `trace.rank1.json`).
    func path(rank: Int?) -> String? {
        guard let profile else { return nil }
        guard let rank, rank > 0 else { return profile }
        let url = URL(fileURLWithPath: profile), suffix = url.pathExtension
        let stem = url.deletingPathExtension().lastPathComponent
        let name = suffix.isEmpty ? "\(stem).rank\(rank)" : "\(stem).rank\(rank).\(suffix)"
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Waits for `devices`, uninstalls the profiler and writes the trace, then with `--verbose`
    /// prints the table on stderr (on rank 0 only). A write that fails all the same (a full disk) is
    /// reported and makes the process exit with status 1 after the command (``LateFailure``),
    /// without hiding the command's own result or error.
    ///
    /// A rank's trace (`rank` not `nil`) is process `rank + 1`, named with its rank, and its times
    /// count from 1970 on the wall clock: the ranks' files line up, and their `traceEvents` arrays
    /// concatenate into one trace with a row per rank.
    func finish(_ profiler: Profiler?, devices: [Device], process: String, rank: Int? = nil) {
        guard let profiler, let path = path(rank: rank) else { return }
        for device in devices { try? device.synchronize() }  // the last kernels' device times
        Profiler.current = nil
        let spans = profiler.spans
        do {
            try ChromeTrace.write(
                spans, to: URL(fileURLWithPath: path), process: rank.map { "\(process) rank \($0)" } ?? process,
                processID: (rank ?? 0) + 1, lanes: profiler.laneNames, timeOffset: rank == nil ? 0 : profiler.wallClockOrigin)
        } catch {
            Terminal.note("Error: \(error)")
            LateFailure.record()
        }
        if verbose && (rank ?? 0) == 0 { Terminal.note(Self.table(OperationSummary.summarize(spans))) }
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
