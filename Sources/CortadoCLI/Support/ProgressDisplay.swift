import Cortado
import CortadoTraining
import Foundation

/// Shows training progress: a live bar on stderr when it is a terminal (loss, samples/s, ETA),
/// nothing in between epochs otherwise; per-epoch summaries go to stdout, as text or JSON lines.
struct ProgressDisplay {
    let epochs: Int
    let json: Bool
    private let interactive = isatty(STDERR_FILENO) != 0

    init(epochs: Int, json: Bool) {
        self.epochs = epochs
        self.json = json
    }

    /// Redraws the bar (terminals only).
    func update(_ progress: TrainingProgress) {
        guard interactive else { return }
        let width = 30
        let fraction = Double(progress.batch) / Double(max(progress.batches, 1))
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(width - filled - 1, 0))
        let remaining = fraction > 0 ? progress.elapsed * (1 - fraction) / fraction : 0
        let line = String(
            format: "\repoch %d/%d [%@] %d/%d  loss %.4f  %@ samples/s  ETA %@ ", progress.epoch, epochs, bar,
            progress.batch, progress.batches, progress.recentLoss, Self.compact(progress.samplesPerSecond),
            Self.clock(remaining))
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Prints an epoch's summary.
    func report(_ report: EpochReport) throws {
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if json {
            print(try Terminal.jsonLine(report))
        } else {
            var line = String(format: "epoch %d/%d  train loss %.4f  test loss %.4f", report.epoch, epochs, report.trainLoss, report.testLoss)
            if let accuracy = report.testAccuracy { line += String(format: "  test accuracy %.4f", accuracy) }
            if let precision = report.testPrecision, let recall = report.testRecall, let f1 = report.testF1 {
                line += String(format: "  precision %.4f  recall %.4f  F1 %.4f", precision, recall, f1)
            }
            line += String(format: "  %.1f s  %.0f samples/s  (%@)", report.seconds, report.samplesPerSecond, report.device)
            if let scale = report.lossScale {
                line += String(format: "  loss scale %.0f (%d skipped)", scale, report.skippedSteps ?? 0)
            }
            if let shares = report.batchShares {
                line += "  batch shares " + shares.enumerated().map { "rank \($0) \($1)" }.joined(separator: ", ")
            }
            print(line)
        }
        fflush(nil)
    }

    private static func compact(_ value: Double) -> String {
        value >= 10_000 ? String(format: "%.1fk", value / 1000) : String(format: "%.0f", value)
    }

    private static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return String(format: "%d:%02d", total / 60, total % 60)
    }
}
