import Foundation

/// Double-precision LayerNorm, written as plainly as possible.
enum LayerNormReference {
    /// `y`, and the gradients `dx`, `dweight`, `dbias` for output gradient `dy`, over rows of `width`.
    static func run(
        _ x: [Float], width: Int, weight: [Float]?, bias: [Float]?, epsilon: Double, dy: [Float]
    ) -> (y: [Float], dx: [Float], dWeight: [Float], dBias: [Float]) {
        let rows = x.count / width
        var y = [Float](repeating: 0, count: x.count), dx = y
        var dWeight = [Double](repeating: 0, count: width), dBias = dWeight
        for r in 0..<rows {
            let row = (0..<width).map { Double(x[r * width + $0]) }
            let mean = row.reduce(0, +) / Double(width)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(width)
            let rstd = 1 / (variance + epsilon).squareRoot()
            let xhat = row.map { ($0 - mean) * rstd }
            var g = [Double](repeating: 0, count: width)
            for j in 0..<width {
                let w = weight.map { Double($0[j]) } ?? 1
                y[r * width + j] = Float(xhat[j] * w + (bias.map { Double($0[j]) } ?? 0))
                let d = Double(dy[r * width + j])
                g[j] = d * w
                dWeight[j] += d * xhat[j]
                dBias[j] += d
            }
            let meanG = g.reduce(0, +) / Double(width)
            let meanGX = zip(g, xhat).map { $0 * $1 }.reduce(0, +) / Double(width)
            for j in 0..<width { dx[r * width + j] = Float(rstd * (g[j] - meanG - xhat[j] * meanGX)) }
        }
        return (y, dx, dWeight.map(Float.init), dBias.map(Float.init))
    }
}
