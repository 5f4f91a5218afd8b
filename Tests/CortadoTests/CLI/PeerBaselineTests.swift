import Foundation
import Testing

/// The C peers that benchmark figures are compared with build and run here, and check what they time.
@Suite("peer baselines")
struct PeerBaselineTests {
    /// Runs `tools/NAME arguments…` with one OpenMP thread; returns its exit status, stdout and stderr.
    static func tool(_ name: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let scratch = try TemporaryDirectory()
        let out = scratch.fileURL("stdout"), err = scratch.fileURL("stderr")
        for file in [out, err] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        let process = Process()
        process.executableURL = DocumentationTests.root.appendingPathComponent("tools/\(name)")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["OMP_NUM_THREADS": "1", "TMPDIR": scratch.url.path]) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOf: out, encoding: .utf8), try String(contentsOf: err, encoding: .utf8))
    }

    @Test("tools/onednn-baseline times oneDNN's u8s8s32 GEMM and Cortado's kernel after checking both against exact sums")
    func oneDNN() throws {
        let run = try Self.tool("onednn-baseline", ["48", "100"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try run.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let timed = rows.filter { $0["op"] as? String == "int8 gemm" }
        #expect(timed.map { "\($0["size"] ?? "") \($0["kernel"] ?? "")" } == [48, 100].flatMap { n in
            ["oneDNN u8s8s32", "oneDNN u8s8s32, no A offset", "Cortado qgemm"].map { "\(n) \($0)" }
        }, "\(run.stdout)")
        for row in timed {
            #expect(((row["gops"] as? Double) ?? 0) > 0 && ((row["median_ms"] as? Double) ?? 0) > 0, "\(row)")
        }
        // Cortado's sums are exact on every processor; oneDNN's only with VNNI (without it,
        // `vpmaddubsw` saturates on full-range operands), and the tool says which.
        #expect(timed.filter { $0["kernel"] as? String == "Cortado qgemm" }.allSatisfy { $0["exact"] as? Bool == true })
        for row in timed where row["kernel"] as? String == "oneDNN u8s8s32" && row["exact"] as? Bool == false {
            #expect(run.stderr.contains("note: not exact: oneDNN u8s8s32"), "\(run.stderr)")
        }
        #expect(try Self.tool("onednn-baseline", ["0"]).status == 2)
    }
}
