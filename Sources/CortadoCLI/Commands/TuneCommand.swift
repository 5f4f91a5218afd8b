import ArgumentParser
import CortadoTraining
import Foundation

/// `cortado tune`: searches and stores the best kernel launch parameters for an OpenCL device.
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Tune the OpenCL kernels' launch parameters for a device and store them for later runs.",
        discussion: """
            Searches GEMM tile sizes, work-group shape and vector width (GEMM also runs the convolutions), \
            then the elementwise work-group size; each candidate is checked against cblas_sgemm and timed. \
            The best table is stored per device and driver in ~/.config/cortado/tuned (or \
            $XDG_CONFIG_HOME/cortado/tuned, or $CORTADO_CONFIG_DIR/tuned), and every later run on that \
            device uses it instead of the built-in table of its type.

            Example: cortado tune --device opencl
            """)

    @Option(help: "The OpenCL device to tune.")
    var device = "opencl"

    @Flag(help: "Fewer candidates and smaller workloads.")
    var quick = false

    @Flag(help: "Search and report, but do not store the result.")
    var dryRun = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    struct Report: Encodable {
        let device: String
        let defaultScore: Double
        let tunedScore: Double
        let gain: Double
        let tried: Int
        let rejected: Int
        let stored: String?
        let parameters: KernelParameters
    }

    @OptionGroup var cpu: ThreadsOption

    func run() throws {
        try cpu.apply()
        let target = try DeviceSelection.resolve([device])[0]
        let tuner = try KernelTuner(device: target, quick: quick)
        let interactive = isatty(STDERR_FILENO) != 0
        let report = try tuner.run { done, total, what in
            guard interactive else { return }
            let width = 30, filled = total > 0 ? done * width / total : 0
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            FileHandle.standardError.write(Data("\rtuning [\(bar)] \(done)/\(total) \(what)\u{1B}[K".utf8))
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        var stored: URL?
        if !dryRun {
            let entry = TunedParameterStore.Entry(
                device: report.device.name, driver: report.device.driverVersion, platform: report.device.platform ?? "",
                parameters: report.best, defaultScore: report.defaultScore, tunedScore: report.bestScore,
                date: ISO8601DateFormatter().string(from: Date()))
            stored = try TunedParameterStore().save(entry, for: report.device)
        }
        let gain = report.bestScore / report.defaultScore - 1
        if json {
            print(try Terminal.jsonLine(Report(
                device: target.id, defaultScore: report.defaultScore, tunedScore: report.bestScore, gain: gain,
                tried: report.tried, rejected: report.rejected, stored: stored?.path, parameters: report.best)))
            return
        }
        let g = report.best.gemm
        print("tuned \(target.id) (\(report.device.name)): \(report.tried) candidates timed, \(report.rejected) rejected")
        print(String(format: "score (geometric mean of GEMM GFLOPS and elementwise Gelem/s): defaults %.1f → tuned %.1f (%+.1f %%)",
                     report.defaultScore, report.bestScore, gain * 100))
        print("GEMM: \(g.algorithm.rawValue) \(g.tileM)×\(g.tileN), tileK \(g.tileK), threads \(g.threadsM)×\(g.threadsN), "
            + "vector width \(g.vectorWidth), group \(g.groupM); elementwise work-group \(report.best.elementwiseWorkGroup)")
        if let stored { print("stored in \(stored.path)") } else { print("not stored (--dry-run)") }
    }
}
