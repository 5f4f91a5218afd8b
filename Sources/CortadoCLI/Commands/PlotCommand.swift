import ArgumentParser
import CortadoFormats
import Foundation

/// `cortado plot`: draws loss and accuracy curves of training runs as an SVG.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw the loss and accuracy curves of training runs (cortado train --json, --loss-log) as an SVG.",
        discussion: """
            Each file is one run: the JSON lines of `cortado train --json` (per epoch: train and test loss, \
            test accuracy) and of `--loss-log` (per step: the training loss), alone or concatenated.

            Example:
              cortado train --model cnn --epochs 5 --json > cnn.jsonl
              cortado train --model mlp --epochs 5 --json --loss-log mlp-steps.jsonl > mlp.jsonl
              cortado plot cnn.jsonl mlp.jsonl --svg curves.svg
            """)

    @Argument(help: "JSON-lines files, one run each.")
    var runs: [String]

    @Option(help: "The SVG file to write.")
    var svg: String = "curves.svg"

    @Option(help: "The chart's title.")
    var title: String = "Cortado training curves"

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("give at least one JSON-lines file (cortado train --json > run.jsonl)") }
    }

    func run() throws {
        let curves = try runs.map { try TrainingCurves(contentsOf: URL(fileURLWithPath: $0)) }
        let output = URL(fileURLWithPath: svg)
        try TrainingCurvesChart(runs: curves, title: title).write(to: output)
        FileHandle.standardError.write(Data("wrote \(output.path): \(curves.count) run\(curves.count == 1 ? "" : "s")\n".utf8))
    }
}
