import ArgumentParser
import CortadoCheck
import CortadoTraining
import Foundation

/// `cortado check`: runs the cross-backend op table on a device against the CPU backend.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check that a device computes what the CPU computes: every op and gradient, in every element type.",
        discussion: """
            Runs the test suite's cross-backend table (elementwise ops, reductions, softmax, matmul, \
            convolution, pooling, LSTM/GRU, layer norm, attention; float32, float16 and bfloat16 \
            storage) on the device and on the CPU backend from the same inputs, and compares outputs \
            and input gradients with the test suite's tolerances. Prints one row per op and element \
            type: the largest errors, the tolerance, the verdict and the time on each device. Exits \
            with status 1 when any row fails. Run it first on a new GPU or driver, and after `cortado tune`.

            Example: cortado check --device opencl --quick
            """)

    @Option(help: "The device to check against the CPU backend (an OpenCL device).")
    var device = "opencl"

    @Flag(help: "A sample of every kind of op at small sizes (within a minute on a CPU OpenCL).")
    var quick = false

    @Option(name: .customLong("op"), help: "Check only the ops whose name contains this (repeatable).")
    var ops: [String] = []

    @Flag(help: "Print one JSON object per row, then a summary object.")
    var json = false

    @OptionGroup var cpu: ThreadsOption

    /// The last line of `--json`.
    struct Summary: Encodable {
        let device: String
        let rows: Int
        let failed: [String]
        let passed: Bool
        let seconds: Double
        let buildSeconds: Double
    }

    func run() throws {
        try cpu.apply()
        let target = try DeviceSelection.resolve([device])[0]
        let check = try DeviceCheck(device: target, quick: quick, matching: ops)
        let info = try target.info
        if !json { Terminal.note("checking \(target.id) (\(info.name), driver \(info.driverVersion)) against cpu: \(check.entries.count) rows") }
        let interactive = isatty(STDERR_FILENO) != 0 && !json
        let report = check.run { done, total, result in
            if json {
                if let line = try? Terminal.jsonLine(result) { print(line) }
            } else if interactive {
                FileHandle.standardError.write(Data("\r\(done)/\(total) \(result.op) \(result.dtype)\u{1B}[K".utf8))
            }
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let failed = report.failures.map { "\($0.op) (\($0.dtype))" }
        if json {
            print(try Terminal.jsonLine(Summary(
                device: report.device, rows: report.results.count, failed: failed, passed: report.passed,
                seconds: report.seconds, buildSeconds: report.buildSeconds)))
        } else {
            print(Self.table(report, device: target.id))
            for failure in report.failures {
                print("FAIL \(failure.op) in \(failure.dtype): \(failure.problem ?? "")")
            }
            let skipped = report.results.filter { $0.status == .skipped }.count
            let builds = report.buildSeconds >= 1 ? " (this run compiled kernels: later ones load them from the cache)" : ""
            print(String(format: "%d rows: %d passed, %d failed%@ in %.1f s%@", report.results.count,
                         report.results.count - report.failures.count - skipped, report.failures.count,
                         skipped > 0 ? ", \(skipped) skipped" : "", report.seconds, builds))
        }
        guard report.passed else {
            Terminal.note("Error: \(target.id) differs from the CPU backend in \(failed.count) of \(report.results.count) rows: "
                + failed.joined(separator: ", "))
            throw ExitCode(1)
        }
    }

    /// The report as aligned columns.
    static func table(_ report: DeviceCheckReport, device: String) -> String {
        func error(_ value: Float?) -> String {
            guard let value else { return "-" }
            return value.isFinite ? String(format: "%.2e", value) : "inf"
        }
        func time(_ seconds: Double?) -> String {
            seconds.map { String(format: "%.1f ms", $0 * 1000) } ?? "-"
        }
        let rows = report.results.map { result in
            [result.op, result.dtype, result.shapes, error(result.outputError), error(result.gradientError),
             "\(result.tolerance.rtol) / \(result.tolerance.atol)", result.status == .passed ? "ok" : result.status.rawValue.uppercased(),
             time(result.referenceSeconds), time(result.deviceSeconds)]
        }
        return Terminal.table(
            ["op", "dtype", "shapes", "max error", "max grad error", "rtol / atol", "result", "cpu", device], rows)
    }
}
