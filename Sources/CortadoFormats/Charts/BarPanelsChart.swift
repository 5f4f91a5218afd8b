import Foundation

/// An SVG of side-by-side panels of horizontal bars, one bar per item in every panel (the same
/// colour for an item throughout), each bar labelled with its value: e.g. the accuracy, size and
/// speed of a model's compressed variants (`cortado bench --suite compression --svg`).
public struct BarPanelsChart {
    /// One panel: a measure of every item.
    public struct Panel {
        /// The panel's heading, e.g. `Eval speed (samples/s, higher is better)`.
        public var title: String
        /// One value per item (in the chart's item order); `nil` draws no bar.
        public var values: [Double?]
        /// The text written beside a bar.
        public var format: (Double) -> String

        /// A panel of `values` labelled by `format`.
        public init(title: String, values: [Double?], format: @escaping (Double) -> String = { String(format: "%g", $0) }) {
            self.title = title
            self.values = values
            self.format = format
        }
    }

    /// The chart's title.
    public var title: String
    /// A second line under the title (the machine, the data).
    public var subtitle: String
    /// The items, in order.
    public var items: [String]
    /// The panels, left to right.
    public var panels: [Panel]

    /// A chart of `panels` over `items`.
    public init(title: String, subtitle: String = "", items: [String], panels: [Panel]) {
        self.title = title
        self.subtitle = subtitle
        self.items = items
        self.panels = panels
    }

    /// The SVG document. Each panel's bars start at zero and the longest fills the panel.
    public func render() -> String {
        let left = 30.0, top = 90.0, labelWidth = 190.0, panelWidth = 260.0, gap = 40.0, bar = 22.0, spacing = 10.0
        let panelHeight = Double(items.count) * (bar + spacing)
        let width = left + Double(panels.count) * (labelWidth + panelWidth + gap)
        let height = top + panelHeight + 40
        let palette = TrainingCurvesChart.palette
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="30" font-size="17" font-weight="bold">\(escape(title))</text>
            <text x="\(left)" y="52" font-size="12" fill="#555">\(escape(subtitle))</text>

            """
        for (index, panel) in panels.enumerated() {
            let x0 = left + Double(index) * (labelWidth + panelWidth + gap) + labelWidth
            let largest = panel.values.compactMap { $0 }.filter(\.isFinite).max() ?? 1
            svg += "<text x=\"\(x0 - labelWidth)\" y=\"\(top - 14)\" font-size=\"14\" font-weight=\"bold\">\(escape(panel.title))</text>\n"
            svg += "<line x1=\"\(x0)\" y1=\"\(top)\" x2=\"\(x0)\" y2=\"\(top + panelHeight)\" stroke=\"#333\"/>\n"
            for (row, item) in items.enumerated() {
                let y = top + Double(row) * (bar + spacing) + spacing / 2
                svg += "<text x=\"\(x0 - 8)\" y=\"\(y + bar * 0.7)\" text-anchor=\"end\">\(escape(item))</text>\n"
                guard row < panel.values.count, let value = panel.values[row], value.isFinite else { continue }
                let length = largest > 0 ? max(value, 0) / largest * (panelWidth - 70) : 0
                svg += "<rect x=\"\(x0)\" y=\"\(y)\" width=\"\(String(format: "%.2f", length))\" height=\"\(bar)\" fill=\"\(palette[row % palette.count])\">"
                svg += "<title>\(escape("\(item): \(panel.format(value))"))</title></rect>\n"
                svg += "<text x=\"\(String(format: "%.2f", x0 + length + 6))\" y=\"\(y + bar * 0.7)\">\(escape(panel.format(value)))</text>\n"
            }
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
}
