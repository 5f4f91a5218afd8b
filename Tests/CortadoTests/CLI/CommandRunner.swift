import Foundation
import Testing

/// The output of one run of the `cortado` binary.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
    /// Whether the process ended by a signal (a trap) rather than exiting.
    let crashed: Bool
}

/// Runs the `cortado` executable built beside the test bundle.
enum Cortado {
    /// The binary: SwiftPM puts it in the same directory as the test bundle it builds for us.
    static var executable: URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("cortado")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: "cortado")
    }

    /// Runs `cortado arguments…` and collects its output.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        let directory = try TemporaryDirectory()
        let out = directory.fileURL("stdout"), err = directory.fileURL("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
            stderr: try String(contentsOf: err, encoding: .utf8), crashed: process.terminationReason == .uncaughtSignal)
    }
}

/// Expects a clean failure: a non-zero exit (not a crash) whose stderr mentions every fragment.
func expectFailure(
    _ result: CommandResult, mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(!result.crashed, "cortado crashed: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.status != 0, "cortado exited 0: \(result.stdout)", sourceLocation: sourceLocation)
    for fragment in fragments where !result.stderr.contains(fragment) {
        Issue.record("stderr does not mention \"\(fragment)\":\n\(result.stderr)", sourceLocation: sourceLocation)
    }
}

/// Runs `cortado eval --checkpoint checkpoint --device opencl --json` and expects the test accuracy
/// and, within 1e-4, the test loss of `trained`: the last epoch its training run printed.
func expectEvalOnOpenCLReproduces(
    _ checkpoint: String, _ trained: [String: Any], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let eval = try Cortado.run(["eval", "--checkpoint", checkpoint, "--device", "opencl", "--json"])
    #expect(eval.status == 0, "\(eval.stderr)", sourceLocation: sourceLocation)
    let evaluation = try #require(jsonLines(eval.stdout).first, sourceLocation: sourceLocation)
    let accuracy = try #require(trained["test_accuracy"] as? Double, sourceLocation: sourceLocation)
    #expect(evaluation["test_accuracy"] as? Double == accuracy, sourceLocation: sourceLocation)
    let trainedLoss = try #require(trained["test_loss"] as? Double, sourceLocation: sourceLocation)
    let evalLoss = try #require(evaluation["test_loss"] as? Double, sourceLocation: sourceLocation)
    #expect(abs(trainedLoss - evalLoss) < 1e-4, sourceLocation: sourceLocation)
}
