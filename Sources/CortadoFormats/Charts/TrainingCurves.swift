import Foundation

/// The curves of one training run, read from JSON lines: `cortado train --json` epoch objects
/// (`epoch`, `train_loss`, `test_loss`, `test_accuracy`, `steps`, …) and `--loss-log` step objects
/// (`step`, `loss`), in one file or several.
public struct TrainingCurves: Sendable, Equatable {
    /// One epoch's values.
    public struct Epoch: Sendable, Equatable {
        /// 1-based epoch number.
        public var epoch: Int
        /// Mean training loss.
        public var trainLoss: Double?
        /// Test loss.
        public var testLoss: Double?
        /// Test accuracy (classification).
        public var testAccuracy: Double?
        /// Steps taken by the end of the epoch.
        public var steps: Int?
    }

    /// The run's name in legends (the file's name without `.jsonl`).
    public var name: String
    /// Epoch values, in epoch order (a resumed run's later lines replace earlier ones of the same epoch).
    public var epochs: [Epoch]
    /// Step losses `(step, loss)`, in step order.
    public var steps: [(step: Int, loss: Double)]

    /// Creates curves.
    public init(name: String, epochs: [Epoch], steps: [(step: Int, loss: Double)]) {
        self.name = name
        self.epochs = epochs
        self.steps = steps
    }

    /// Equal when the names, epochs and steps are.
    public static func == (a: TrainingCurves, b: TrainingCurves) -> Bool {
        a.name == b.name && a.epochs == b.epochs && a.steps.elementsEqual(b.steps) { $0.step == $1.step && $0.loss == $1.loss }
    }

    /// Reads a JSON-lines file. Lines that are not JSON objects, and objects with neither an `epoch`
    /// nor a `step` with a `loss`, are skipped; a file with no curve at all is an error.
    /// - Throws: ``FormatError`` naming the file when it cannot be read or holds no curve.
    public init(contentsOf url: URL, name: String? = nil) throws {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw FormatError(url, "cannot be read: \(error.localizedDescription)")
        }
        var epochs: [Int: Epoch] = [:], steps: [Int: Double] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            func number(_ key: String) -> Double? {
                guard let value = object[key] as? NSNumber, value.doubleValue.isFinite else { return nil }
                return value.doubleValue
            }
            if let epoch = number("epoch"), epoch >= 1, epoch < 1e9 {
                epochs[Int(epoch)] = Epoch(epoch: Int(epoch), trainLoss: number("train_loss"), testLoss: number("test_loss"),
                                           testAccuracy: number("test_accuracy"), steps: number("steps").flatMap { $0 < 1e15 ? Int($0) : nil })
            } else if let step = number("step"), step >= 0, step < 1e15, let loss = number("loss") {
                steps[Int(step)] = loss
            }
        }
        guard !epochs.isEmpty || !steps.isEmpty else {
            throw FormatError(url, "holds no training curve: no line has an \"epoch\" (cortado train --json) or a \"step\" and \"loss\" (--loss-log)")
        }
        var base = url.lastPathComponent
        if base.hasSuffix(".jsonl") { base.removeLast(6) }
        self.init(name: name ?? base, epochs: epochs.keys.sorted().compactMap { epochs[$0] },
                  steps: steps.keys.sorted().map { ($0, steps[$0]!) })
    }
}

/// Draws the curves of one or several runs as an SVG: loss per epoch (train solid, test dashed),
/// test accuracy per epoch, and the training loss per step where runs logged it; one colour per run.
public struct TrainingCurvesChart {
    /// The runs drawn.
    public var runs: [TrainingCurves]
    /// The title above the panels.
    public var title: String

    /// A chart of `runs`.
    public init(runs: [TrainingCurves], title: String = "Cortado training curves") {
        self.runs = runs
        self.title = title
    }

    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"]

    /// A line of one series.
    private struct Series {
        var points: [(Double, Double)]
        var color: String
        var dashed: Bool
    }

    /// The SVG document.
    public func render() -> String {
        var panels: [(title: String, x: String, y: String, series: [Series])] = []
        var loss: [Series] = [], accuracy: [Series] = [], stepLoss: [Series] = []
        for (index, run) in runs.enumerated() {
            let color = Self.palette[index % Self.palette.count]
            let train = run.epochs.compactMap { e in e.trainLoss.map { (Double(e.epoch), $0) } }
            let test = run.epochs.compactMap { e in e.testLoss.map { (Double(e.epoch), $0) } }
            let accuracyPoints = run.epochs.compactMap { e in e.testAccuracy.map { (Double(e.epoch), $0) } }
            if !train.isEmpty { loss.append(Series(points: train, color: color, dashed: false)) }
            if !test.isEmpty { loss.append(Series(points: test, color: color, dashed: true)) }
            if !accuracyPoints.isEmpty { accuracy.append(Series(points: accuracyPoints, color: color, dashed: true)) }
            if !run.steps.isEmpty { stepLoss.append(Series(points: run.steps.map { (Double($0.step), $0.loss) }, color: color, dashed: false)) }
        }
        if !loss.isEmpty { panels.append(("Loss per epoch (train solid, test dashed)", "epoch", "loss", loss)) }
        if !accuracy.isEmpty { panels.append(("Test accuracy per epoch", "epoch", "accuracy", accuracy)) }
        if !stepLoss.isEmpty { panels.append(("Training loss per step", "step", "loss", stepLoss)) }

        let panelWidth = 460.0, panelHeight = 300.0, left = 70.0, top = 70.0, gap = 90.0
        let legendHeight = 24.0 * Double(runs.count) + 20
        let width = left + Double(max(panels.count, 1)) * (panelWidth + gap)
        let height = top + panelHeight + 60 + legendHeight
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="30" font-size="17" font-weight="bold">\(escape(title))</text>

            """
        for (index, panel) in panels.enumerated() {
            svg += draw(panel.series, title: panel.title, xLabel: panel.x, yLabel: panel.y,
                        x0: left + Double(index) * (panelWidth + gap), y0: top, width: panelWidth, height: panelHeight)
        }
        var legendY = top + panelHeight + 60
        for (index, run) in runs.enumerated() {
            let color = Self.palette[index % Self.palette.count]
            svg += "<line x1=\"\(left)\" y1=\"\(legendY - 4)\" x2=\"\(left + 30)\" y2=\"\(legendY - 4)\" stroke=\"\(color)\" stroke-width=\"3\"/>\n"
            let last = run.epochs.last
            var detail = "\(run.epochs.count) epochs"
            if let accuracy = last?.testAccuracy { detail += String(format: ", final test accuracy %.4f", accuracy) }
            if let testLoss = last?.testLoss { detail += String(format: ", test loss %.4f", testLoss) }
            if !run.steps.isEmpty { detail += ", \(run.steps.count) steps logged" }
            svg += "<text x=\"\(left + 40)\" y=\"\(legendY)\">\(escape("\(run.name): \(detail)"))</text>\n"
            legendY += 24
        }
        return svg + "</svg>\n"
    }

    /// Writes the SVG to `url` atomically.
    /// - Throws: ``FormatError`` naming the file when it cannot be written.
    public func write(to url: URL) throws {
        do {
            try Data(render().utf8).write(to: url, options: .atomic)
        } catch {
            throw FormatError(url, "cannot be written: \(error.localizedDescription)")
        }
    }

    private func draw(_ series: [Series], title: String, xLabel: String, yLabel: String,
                      x0: Double, y0: Double, width: Double, height: Double) -> String {
        let xs = series.flatMap { $0.points.map(\.0) }, ys = series.flatMap { $0.points.map(\.1) }
        let xTicks = Self.ticks(xs.min() ?? 0, xs.max() ?? 1, integers: true)
        let yTicks = Self.ticks(ys.min() ?? 0, ys.max() ?? 1, integers: false)
        let (xLow, xHigh) = (xTicks.first!, xTicks.last!), (yLow, yHigh) = (yTicks.first!, yTicks.last!)
        func px(_ x: Double) -> Double { x0 + width * (x - xLow) / max(xHigh - xLow, 1e-12) }
        func py(_ y: Double) -> Double { y0 + height * (1 - (y - yLow) / max(yHigh - yLow, 1e-12)) }
        var svg = "<text x=\"\(x0)\" y=\"\(y0 - 14)\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>\n"
        svg += "<rect x=\"\(x0)\" y=\"\(y0)\" width=\"\(width)\" height=\"\(height)\" fill=\"none\" stroke=\"#999\"/>\n"
        for tick in yTicks {
            svg += "<line x1=\"\(x0)\" y1=\"\(py(tick))\" x2=\"\(x0 + width)\" y2=\"\(py(tick))\" stroke=\"#e5e5e5\"/>\n"
            svg += "<text x=\"\(x0 - 6)\" y=\"\(py(tick) + 4)\" text-anchor=\"end\">\(Self.label(tick))</text>\n"
        }
        for tick in xTicks {
            svg += "<line x1=\"\(px(tick))\" y1=\"\(y0 + height)\" x2=\"\(px(tick))\" y2=\"\(y0 + height + 5)\" stroke=\"#999\"/>\n"
            svg += "<text x=\"\(px(tick))\" y=\"\(y0 + height + 19)\" text-anchor=\"middle\">\(Self.label(tick))</text>\n"
        }
        svg += "<text x=\"\(x0 + width / 2)\" y=\"\(y0 + height + 38)\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        svg += "<text x=\"\(x0 - 50)\" y=\"\(y0 + height / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 \(x0 - 50) \(y0 + height / 2))\">\(escape(yLabel))</text>\n"
        for line in series {
            let points = line.points.map { String(format: "%.2f,%.2f", px($0.0), py($0.1)) }.joined(separator: " ")
            let dash = line.dashed ? " stroke-dasharray=\"7 4\"" : ""
            let widthAttribute = line.points.count > 200 ? "1.2" : "2.2"
            svg += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"\(widthAttribute)\"\(dash)/>\n"
            if line.points.count <= 60 {
                for point in line.points {
                    svg += "<circle cx=\"\(String(format: "%.2f", px(point.0)))\" cy=\"\(String(format: "%.2f", py(point.1)))\" r=\"3\" fill=\"\(line.color)\"/>\n"
                }
            }
        }
        return svg
    }

    /// About five round tick values covering `low…high` (whole numbers for counts).
    static func ticks(_ low: Double, _ high: Double, integers: Bool) -> [Double] {
        var (low, high) = (low, high)
        if high - low < 1e-12 {
            low -= integers ? 1 : max(abs(low) * 0.1, 0.1)
            high += integers ? 1 : max(abs(high) * 0.1, 0.1)
        }
        let raw = (high - low) / 5
        let magnitude = pow(10, floor(log10(raw)))
        var step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        if integers { step = max(step.rounded(.up), 1) }
        let first = floor(low / step) * step, last = ceil(high / step) * step
        return stride(from: first, through: last + step * 0.5, by: step).map { $0 }
    }

    private static func label(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e7 { return String(Int(value)) }
        return String(format: "%g", (value * 1e6).rounded() / 1e6)
    }
}

/// Text with `&`, `<`, `>` and `"` escaped for SVG.
func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
