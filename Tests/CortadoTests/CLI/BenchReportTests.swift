import Foundation
import Testing

/// tools/bench-report writes the README's benchmark table, the per-round page and the SVG chart from
/// its JSON alone: checked on a small fixture (Fixtures/bench-report.json) without measuring anything.
@Suite("bench report")
struct BenchReportTests {
    /// The fixture: two rows (cnn against Keras, embed against PyTorch and ONNX Runtime) on `cpu` and
    /// `opencl:0`, three rounds, with one failed round and one reference that was not measured.
    static let fixture = DocumentationTests.root.appendingPathComponent("Tests/CortadoTests/Fixtures/bench-report.json").path

    /// Runs `tools/bench-report arguments…` with python3; returns its exit status and stderr.
    static func benchReport(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let scratch = try TemporaryDirectory()
        let err = scratch.fileURL("stderr")
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", DocumentationTests.root.appendingPathComponent("tools/bench-report").path] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOf: err, encoding: .utf8))
    }

    @Test("--from replaces only the README's marked table and writes the rounds and a valid SVG chart")
    func writesFromJSON() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.file("docs"), withIntermediateDirectories: true)
        let readme = directory.file("README.md"), page = directory.file("docs/current.md"), chart = directory.file("docs/current.svg")
        let before = "# Cortado\n\nIntroduction stays.\n\n## Benchmarks\n\n"
        let after = "\n\nThe history stays: 9,999 samples/s typed by hand.\n"
        try (before + "<!-- bench-report:begin -->\n| an old | table |\n<!-- bench-report:end -->" + after)
            .write(toFile: readme, atomically: true, encoding: .utf8)
        let arguments = ["--from", Self.fixture, "--readme", readme, "--markdown-out", page, "--svg-out", chart]

        let run = try Self.benchReport(arguments)
        #expect(run.status == 0, "\(run.stderr)")
        let text = try String(contentsOfFile: readme, encoding: .utf8)
        #expect(text.hasPrefix(before + "<!-- bench-report:begin -->\n"))
        #expect(text.hasSuffix("<!-- bench-report:end -->" + after))
        #expect(!text.contains("an old"))
        // Medians of the three rounds, the ratio to the reference, a failed round, a missing reference.
        for fragment in [
            "| command | `cpu` | `opencl:0` | reference, same run |",
            "| `cortado train --model cnn --data fashion-mnist --epochs 3 --batch-size 64 --seed 1 --device D` | 21,400 samples/s (2.24× Keras; accuracy 0.8993) | 10,367 samples/s (1.08× Keras; accuracy 0.8989) | Keras 3.15.1 (TensorFlow-CPU 2.21.0): 9,561 samples/s |",
            "119 texts/s (0.64× ONNX Runtime; 2 of 3 rounds)",
            "PyTorch: not measured (torch is not installed",
            "ONNX Runtime 1.31.1: 186 texts/s",
            "`OPENBLAS_CORETYPE` unset", "`opencl:0`: pthread-fixture",
            "[current.md](docs/current.md)", "[current.svg](docs/current.svg)",
        ] {
            #expect(text.contains(fragment), "README lacks \(fragment):\n\(text)")
        }

        let rounds = try String(contentsOfFile: page, encoding: .utf8)
        for fragment in ["| `cpu` | 20,248 | 24,344 | 21,400 | 21,400 | 2.24× Keras |", "| `opencl:0` | 120 | failed | 118 | 119 |",
                         "Round 2 of `opencl:0` failed: exit status 1: fixture failure.", "![the medians as bars, each round as a dot](current.svg)"] {
            #expect(rounds.contains(fragment), "the rounds page lacks \(fragment):\n\(rounds)")
        }

        // The chart parses as XML (Python's parser, an independent reader) and shows the medians.
        let labels = try runPython(
            """
            import sys, xml.etree.ElementTree as tree
            root = tree.parse(sys.argv[1]).getroot()
            assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
            assert len(root.findall("{http://www.w3.org/2000/svg}rect")) == 1 + 6, "a background and six bars"
            print("\\n".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")))
            """, arguments: [chart])
        for fragment in ["21,400  (2.24× Keras)", "9,561", "251  (1.35× ONNX Runtime)", "186", "not measured: torch is not installed"] {
            #expect(labels.contains(fragment), "the chart lacks \(fragment):\n\(labels)")
        }

        // Generating again from the same JSON changes nothing.
        let first = try Data(contentsOf: URL(fileURLWithPath: readme))
        #expect(try Self.benchReport(arguments).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: readme)) == first)
    }

    @Test("--merge adds a row measured in another run, labelled with that run's command, to the JSON and the tables")
    func mergesRows() throws {
        let directory = try TemporaryDirectory()
        let readme = directory.file("README.md"), merged = directory.file("merged.json")
        try "<!-- bench-report:begin -->\n<!-- bench-report:end -->\n".write(toFile: readme, atomically: true, encoding: .utf8)
        let rounds = (1...3).map { #"{"round": \#($0), "value": \#(Double(100 + $0) + 0.5), "load_average": [1.0, 1.0, 1.0]}"# }.joined(separator: ", ")
        let gemm = """
            {"schema": "cortado-bench-report/1", "started": "2026-12-04T09:00:00+00:00", "finished": "2026-12-04T09:01:00+00:00",
             "invocation": "tools/bench-report --only gemm --device cpu", "quick": false, "rounds": 3, "devices": ["cpu"],
             "machine": {"cpu": "Fixture CPU", "cores": 2}, "versions": {},
             "rows": [{"id": "gemm", "title": "sgemm 2048 × 2048", "unit": "GFLOPS", "command": "cortado bench gemm --size 2048 --device D",
                       "cases": [{"id": "cpu", "label": "`cpu`", "kind": "cortado", "command": "cortado bench gemm --size 2048 --device cpu --json",
                                  "rounds": [\(rounds)]}]}]}
            """
        try gemm.write(toFile: directory.file("gemm.json"), atomically: true, encoding: .utf8)
        let run = try Self.benchReport(["--from", Self.fixture, "--merge", directory.file("gemm.json"), "--json-out", merged,
                                        "--readme", readme, "--markdown-out", directory.file("a.md"), "--svg-out", directory.file("a.svg")])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: merged))) as? [String: Any])["rows"] as? [[String: Any]]
        #expect(rows?.compactMap { $0["id"] as? String } == ["cnn", "embed", "gemm"])
        let text = try String(contentsOfFile: readme, encoding: .utf8)
        #expect(text.contains("| `cortado bench gemm --size 2048 --device D` | 102 GFLOPS |"), "\(text)")
        #expect(text.contains("The gemm row was measured apart by `tools/bench-report --only gemm --device cpu`, 2026-12-04T09:00:00+00:00"), "\(text)")
        #expect(text.contains("Measured 2026-12-03 to 2026-12-04"), "\(text)")
        #expect(text.contains("[merged.json](merged.json)"), "\(text)")
    }

    @Test("a README without the markers is refused and left as it was")
    func refusesUnmarkedReadme() throws {
        let directory = try TemporaryDirectory()
        let readme = directory.file("README.md")
        try "# Cortado\n".write(toFile: readme, atomically: true, encoding: .utf8)
        let run = try Self.benchReport(["--from", Self.fixture, "--readme", readme, "--markdown-out", directory.file("a.md"),
                                        "--svg-out", directory.file("a.svg")])
        #expect(run.status != 0)
        #expect(run.stderr.contains("<!-- bench-report:begin -->"), "\(run.stderr)")
        #expect(try String(contentsOfFile: readme, encoding: .utf8) == "# Cortado\n")
    }
}
