import CortadoTraining
import Foundation
import Testing

/// Runs a Python 3 script (standard library only) with arguments and returns what it printed.
/// Fails with its standard error when it exits non-zero.
func runPython(
    _ script: String, arguments: [String] = [], interpreter: String = "python3", sourceLocation: SourceLocation = #_sourceLocation
) throws -> String {
    let scratch = try TemporaryDirectory()
    let scriptURL = scratch.fileURL("script.py")
    let stdoutURL = scratch.fileURL("stdout")
    let stderrURL = scratch.fileURL("stderr")
    try script.write(to: scriptURL, atomically: false, encoding: .utf8)
    try Data().write(to: stdoutURL)
    try Data().write(to: stderrURL)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [interpreter, scriptURL.path] + arguments
    process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
    process.standardError = try FileHandle(forWritingTo: stderrURL)
    try process.run()
    process.waitUntilExit()
    let output = try String(contentsOf: stdoutURL, encoding: .utf8)
    guard process.terminationStatus == 0 else {
        let errors = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        throw PythonFailure(status: process.terminationStatus, stderr: errors)
    }
    return output
}

/// The Python of the test tooling's virtual environment (safetensors, numpy, ml_dtypes), which
/// `tools/setup` installs in Cortado's cache directory.
var toolingPython: String {
    CacheDirectory.url.appendingPathComponent("python/bin/python").path
}

/// A Python script that exited with a non-zero status.
struct PythonFailure: Error, CustomStringConvertible {
    let status: Int32
    let stderr: String
    var description: String { "python3 exited with status \(status):\n\(stderr)" }
}

/// The bytes of a safetensors file built by hand: the header text (padded with spaces to a multiple
/// of 8 unless `pad` is false), preceded by its length or by `declaredLength`, then `data`.
func handMadeSafeTensors(header: String, data: [UInt8], declaredLength: UInt64? = nil, pad: Bool = true) -> [UInt8] {
    var headerBytes = Array(header.utf8)
    if pad {
        headerBytes += Array(repeating: UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8)
    }
    return littleEndian(declaredLength ?? UInt64(headerBytes.count)) + headerBytes + data
}

/// The 8 little-endian bytes of `value`.
func littleEndian(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}

/// Writes `bytes` to `url` and expects reading it to throw a ``CheckpointError`` whose message
/// names the file and contains each of `fragments`.
func expectReadFails(
    _ bytes: [UInt8], at url: URL, mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    try Data(bytes).write(to: url)
    expectReadFails(url, mentioning: fragments, sourceLocation: sourceLocation)
}

/// Expects reading `url` to throw a ``CheckpointError`` naming the file and containing `fragments`.
func expectReadFails(_ url: URL, mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let file = try SafeTensorsFile(contentsOf: url)
        Issue.record("reading succeeded with tensors \(file.tensorNames); expected \(fragments)", sourceLocation: sourceLocation)
    } catch let error as CheckpointError {
        expectMessage(error, names: url, mentioning: fragments, sourceLocation: sourceLocation)
    } catch {
        Issue.record("threw \(type(of: error)) \(error), not a CheckpointError", sourceLocation: sourceLocation)
    }
}

/// Expects `error`'s message to start with the file's path and contain each of `fragments`.
func expectMessage(
    _ error: CheckpointError, names url: URL, mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation
) {
    let message = error.description
    #expect(message.hasPrefix(url.path + ": "), "message does not name the file: \(message)", sourceLocation: sourceLocation)
    #expect(error.localizedDescription == message, sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(message.contains(fragment), "'\(fragment)' missing from: \(message)", sourceLocation: sourceLocation)
    }
}

/// A small deterministic generator for the fuzz tests (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
