import Foundation
import Testing

/// Runs `cortado` under Open MPI's `mpirun`, as the tests of data-parallel training need.
enum MPIRun {
    /// `mpirun`'s flags for this machine: root may run it, and more ranks than cores may start.
    static let launcherFlags = ["--allow-run-as-root", "--oversubscribe"]

    /// A started `mpirun -np ranks cortado arguments…` (or an MPMD line of several `-np` groups).
    static func start(
        _ groups: [(ranks: Int, arguments: [String])], directory: TemporaryDirectory, environment: [String: String] = [:],
        launcher: [String] = []
    ) throws -> (process: Process, stdout: URL, stderr: URL) {
        let out = directory.fileURL("mpirun.stdout"), err = directory.fileURL("mpirun.stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        // The test runner's threads block SIGINT, and a child inherits the mask: mpirun would never
        // see a Ctrl-C. Python clears the mask, then becomes mpirun.
        let unblock = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])"
        var arguments = ["python3", "-c", unblock, "mpirun"] + launcherFlags + launcher
        for (index, group) in groups.enumerated() {
            if index > 0 { arguments.append(":") }
            arguments += ["-np", String(group.ranks), Cortado.executable.path] + group.arguments
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        return (process, out, err)
    }

    /// Runs `mpirun -np ranks cortado arguments…` to the end (at most `timeout` seconds).
    static func run(
        ranks: Int, _ arguments: [String], environment: [String: String] = [:], launcher: [String] = [], timeout: Double = 300,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> CommandResult {
        try run([(ranks, arguments)], environment: environment, launcher: launcher, timeout: timeout, sourceLocation: sourceLocation)
    }

    /// Runs an MPMD line of `-np` groups to the end (at most `timeout` seconds).
    static func run(
        _ groups: [(ranks: Int, arguments: [String])], environment: [String: String] = [:], launcher: [String] = [],
        timeout: Double = 300, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> CommandResult {
        let directory = try TemporaryDirectory()
        let (process, out, err) = try start(groups, directory: directory, environment: environment, launcher: launcher)
        let finished = waitForExit(process, timeout: timeout)
        if !finished {
            process.terminate()
            Issue.record("mpirun did not finish within \(Int(timeout)) s", sourceLocation: sourceLocation)
        }
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
            stderr: try String(contentsOf: err, encoding: .utf8), crashed: false)
    }

    /// Waits for `process` to exit; `false` when `timeout` seconds passed first.
    static func waitForExit(_ process: Process, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return !process.isRunning
    }

    /// The process id of `rank` among `mpirun`'s children (found by `OMPI_COMM_WORLD_RANK`).
    static func pid(ofRank rank: Int, launcher: Process) -> Int32? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == launcher.processIdentifier,
                  let environment = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
            let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }
}

/// The JSON objects of a `--loss-log` file or `--json` output, one per line.
func jsonLines(file path: String) throws -> [[String: Any]] {
    jsonLines(try String(contentsOfFile: path, encoding: .utf8))
}
