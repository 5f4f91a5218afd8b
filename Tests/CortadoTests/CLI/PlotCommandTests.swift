import CortadoFormats
import Foundation
import Testing

/// Whether `rsvg-convert` (Debian's librsvg2-bin, which tools/setup installs) is on the PATH.
let rsvgConvertAvailable: Bool = {
    ProcessInfo.processInfo.environment["PATH", default: "/usr/bin"].split(separator: ":")
        .contains { FileManager.default.isExecutableFile(atPath: "\($0)/rsvg-convert") }
}()

@Suite("cortado plot")
struct PlotCommandTests {
    /// Two runs: one with epochs only, one with epochs and the steps of --loss-log in the same file.
    private func writeRuns(in directory: TemporaryDirectory) throws -> (String, String) {
        let first = (1...4).map { epoch in
            #"{"epoch":\#(epoch),"train_loss":\#(1.0 / Double(epoch)),"test_loss":\#(1.2 / Double(epoch) + 0.1),"test_accuracy":\#(0.6 + 0.05 * Double(epoch)),"steps":\#(epoch * 10)}"#
        }
        let second = (1...3).map { epoch in
            #"{"epoch":\#(epoch),"train_loss":\#(0.9 - 0.2 * Double(epoch)),"test_loss":\#(0.8 - 0.1 * Double(epoch)),"test_accuracy":\#(0.7 + 0.02 * Double(epoch)),"steps":\#(epoch * 10)}"#
        } + (1...30).map { #"{"loss":\#(1.0 / Double($0)),"step":\#($0)}"# } + ["not json", "{\"other\": 1}"]
        return (try directory.write("cnn.jsonl", text: first.joined(separator: "\n") + "\n"),
                try directory.write("mlp.jsonl", text: second.joined(separator: "\n") + "\n"))
    }

    @Test("reads epochs and steps from JSON lines, skipping other lines")
    func reading() throws {
        let directory = try TemporaryDirectory()
        let (_, second) = try writeRuns(in: directory)
        let curves = try TrainingCurves(contentsOf: URL(fileURLWithPath: second))
        #expect(curves.name == "mlp")
        #expect(curves.epochs.map(\.epoch) == [1, 2, 3])
        #expect(curves.epochs.last?.testAccuracy == 0.76)
        #expect(curves.steps.count == 30 && curves.steps.first?.loss == 1)
    }

    @Test("plots two runs as an SVG that rsvg-convert renders to a PNG of its size",
          .enabled(if: rsvgConvertAvailable, "rsvg-convert is not installed: run tools/setup (Debian's librsvg2-bin)"))
    func plotAndRender() throws {
        let directory = try TemporaryDirectory()
        let (first, second) = try writeRuns(in: directory)
        let svg = directory.file("curves.svg"), png = directory.file("curves.png")
        let result = try Cortado.run(["plot", first, second, "--svg", svg])
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        // Three panels: loss (2 runs × train and test), accuracy (2 runs), steps (1 run).
        #expect(text.components(separatedBy: "<polyline").count - 1 == 7)
        for fragment in ["Loss per epoch", "Test accuracy per epoch", "Training loss per step", "cnn: 4 epochs", "mlp: 3 epochs", "30 steps logged"] {
            #expect(text.contains(fragment), "the SVG has no \(fragment)")
        }
        let render = Process()
        render.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        render.arguments = ["rsvg-convert", "-o", png, svg]
        try render.run()
        render.waitUntilExit()
        #expect(render.terminationStatus == 0)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))
        #expect(bytes.count > 1000 && bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        func be32(_ offset: Int) -> Int { bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) } }
        let width = try #require(text.firstMatch(of: #/width="(\d+)"/#)).1, height = try #require(text.firstMatch(of: #/height="(\d+)"/#)).1
        #expect(be32(16) == Int(width) && be32(20) == Int(height))
    }

    @Test("a file without curves, or a missing file, is a clear error")
    func errors() throws {
        let directory = try TemporaryDirectory()
        let empty = try directory.write("empty.jsonl", text: "{\"x\": 1}\n")
        expectFailure(try Cortado.run(["plot", empty, "--svg", directory.file("a.svg")]), mentioning: [empty, "no training curve"])
        expectFailure(try Cortado.run(["plot", directory.file("missing.jsonl"), "--svg", directory.file("a.svg")]), mentioning: ["missing.jsonl"])
        expectFailure(try Cortado.run(["plot"]), mentioning: ["runs"])
        #expect(!FileManager.default.fileExists(atPath: directory.file("a.svg")))
    }
}
