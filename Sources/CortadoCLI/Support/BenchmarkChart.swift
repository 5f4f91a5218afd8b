import CortadoBenchmarks
import CortadoTraining
import Foundation

/// An SVG chart of benchmark medians: grouped bars per case (one colour per device), a logarithmic
/// time axis with labelled decades, and the devices and machine in the title.
struct BenchmarkChart {
    let results: [BenchmarkResult]
    let devices: [DeviceInfo]
    let machine: String

    private static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1"]

    func render() -> String {
        let cases = results.reduce(into: [String]()) { if !$0.contains($1.caseName) { $0.append($1.caseName) } }
        let deviceIDs = devices.map(\.id)
        let bar = 14.0, gap = 12.0, left = 90.0, top = 110.0, plotHeight = 380.0, labelSpace = 260.0
        let groupWidth = Double(max(deviceIDs.count, 1)) * bar + gap
        // Room on the right for the last rotated label.
        let width = left + Double(cases.count) * groupWidth + 200
        let height = top + plotHeight + labelSpace
        let times = results.map(\.medianMs).filter { $0 > 0 }
        let low = floor(log10(times.min() ?? 0.01)), high = ceil(log10(times.max() ?? 1))
        let span = max(high - low, 1)
        func y(_ milliseconds: Double) -> Double {
            top + plotHeight * (1 - (log10(max(milliseconds, pow(10, low))) - low) / span)
        }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="28" font-size="17" font-weight="bold">\(escape("Cortado benchmark: median time per run (lower is better)"))</text>
            <text x="\(left)" y="50" font-size="12">\(escape(devices.map { "\($0.id): \($0.name)" }.joined(separator: "  ·  ")))</text>
            <text x="\(left)" y="68" font-size="12" fill="#555">\(escape("machine: \(machine)"))</text>

            """
        for decade in stride(from: low, through: high, by: 1) {
            let value = pow(10, decade), py = y(value)
            let label = value >= 1 ? String(format: "%.0f ms", value) : String(format: "%g ms", value)
            svg += "<line x1=\"\(left)\" y1=\"\(py)\" x2=\"\(width - 190)\" y2=\"\(py)\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(left - 8)\" y=\"\(py + 4)\" text-anchor=\"end\">\(label)</text>\n"
        }
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + plotHeight)\" stroke=\"#333\"/>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(width - 190)\" y2=\"\(top + plotHeight)\" stroke=\"#333\"/>\n"
        svg += "<text transform=\"translate(24 \(top + plotHeight / 2)) rotate(-90)\" text-anchor=\"middle\">time per run (ms, log scale)</text>\n"
        for (index, name) in cases.enumerated() {
            let x0 = left + gap / 2 + Double(index) * groupWidth
            for (slot, id) in deviceIDs.enumerated() {
                guard let result = results.first(where: { $0.caseName == name && $0.device == id }) else { continue }
                let py = y(result.medianMs)
                let colour = Self.palette[slot % Self.palette.count]
                svg += "<rect x=\"\(x0 + Double(slot) * bar)\" y=\"\(py)\" width=\"\(bar - 1)\" height=\"\(top + plotHeight - py)\" fill=\"\(colour)\">"
                svg += "<title>\(escape("\(name) on \(id): \(String(format: "%.3f", result.medianMs)) ms"))</title></rect>\n"
            }
            let lx = x0 + Double(deviceIDs.count) * bar / 2
            svg += "<text transform=\"translate(\(lx) \(top + plotHeight + 10)) rotate(55)\" font-size=\"11\">\(escape(name))</text>\n"
        }
        // The legend: one row under the header, clear of the title and the bars.
        var lx = left
        for (slot, info) in devices.enumerated() {
            svg += "<rect x=\"\(lx)\" y=\"78\" width=\"12\" height=\"12\" fill=\"\(Self.palette[slot % Self.palette.count])\"/>\n"
            svg += "<text x=\"\(lx + 18)\" y=\"88\">\(escape(info.id))</text>\n"
            lx += 40 + 7 * Double(info.id.count)
        }
        return svg + "</svg>\n"
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
