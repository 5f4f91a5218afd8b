import Cortado
import CortadoNN
import Foundation
import Testing

/// SmoothQuant's smoothing of int8 products (`QuantizedMatrix(quantizing:scheme:smoothing:strength:)`,
/// the row quantiser's column multipliers, per-column calibration) on every device, against its
/// closed form and a double-precision float product.
@Suite("SmoothQuant smoothing")
struct SmoothQuantTests {
    /// Activations `[rows, columns]` whose columns 3 and 17 are `outlier` times larger than the
    /// rest, as a transformer's LayerNorm outputs are.
    static func activations(rows: Int, columns: Int, outlier: Float) -> [Float] {
        Fixtures.values(rows * columns, seed: 91, low: -1, high: 1).enumerated().map { index, value in
            [3, 17].contains(index % columns) ? value * outlier : value
        }
    }

    /// `x · wᵀ` in double.
    static func product(_ x: [Float], rows: Int, _ w: [Float], outputs: Int, columns: Int) -> [Float] {
        (0..<rows).flatMap { i in
            (0..<outputs).map { j in
                Float((0..<columns).reduce(0.0) { $0 + Double(x[i * columns + $1]) * Double(w[j * columns + $1]) })
            }
        }
    }

    /// The root-mean-square difference of `a` and `b` over that of `b`.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        let difference = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        return (difference / b.reduce(0.0) { $0 + Double($1) * Double($1) }).squareRoot()
    }

    @Test("quantizedRows with multipliers quantises x · m by the definition", arguments: TestDevices.all)
    func rowsWithMultipliers(device: Device) throws {
        let (rows, k) = (6, 70)
        let x = Fixtures.values(rows * k, seed: 92, low: -2, high: 2), m = Fixtures.values(k, seed: 93, low: 0.1, high: 5)
        for block in [k, 32] {
            let (values, scales) = try Tensor(x, shape: [rows, k], device: device)
                .quantizedRows(block: block, multipliers: Tensor(m, shape: [k], device: device))
            let (gotValues, gotScales) = (try values.elements(as: Int8.self), try scales.toArray())
            let blocks = (k + block - 1) / block
            var mismatches = 0
            for r in 0..<rows {
                for b in 0..<blocks {
                    let range = (b * block)..<min(k, (b + 1) * block)
                    let (want, scale) = QuantizedOpTests.quantize(range.map { x[r * k + $0] * m[$0] })
                    assertClose([gotScales[r * blocks + b]], [scale], rtol: 1e-6, atol: 0, "scale \(r) \(b) on \(device)")
                    let got = range.map { gotValues[r * k + $0] }
                    // OpenCL's division may differ by an ulp, which can move a value at a tie by one.
                    mismatches += zip(got, want).filter { device == .cpu ? $0 != $1 : abs(Int($0) - Int($1)) > 1 }.count
                }
            }
            #expect(mismatches == 0, "block \(block) on \(device)")
        }
    }

    @Test("smoothing keeps the product, follows the closed form, and cuts the error of outlier channels", arguments: TestDevices.all)
    func smoothedLinear(device: Device) throws {
        let (rows, columns, outputs) = (48, 64, 24)
        let x = Self.activations(rows: rows, columns: columns, outlier: 60)
        let w = Fixtures.values(outputs * columns, seed: 94, low: -0.5, high: 0.5)
        let weight = try Tensor(w, shape: [outputs, columns], device: device)
        let maxima = (0..<columns).map { p in (0..<rows).map { abs(x[$0 * columns + p]) }.max()! }
        let expected = Self.product(x, rows: rows, w, outputs: outputs, columns: columns)
        let input = try Tensor(x, shape: [rows, columns], device: device)
        let plain = try input.quantizedLinear(QuantizedMatrix(quantizing: weight, scheme: .perChannel)).toArray()
        for strength: Float in [0.5, 0.8] {
            let smoothed = try QuantizedMatrix(
                quantizing: weight, scheme: .perChannel, smoothing: Tensor(maxima, shape: [columns], device: device), strength: strength)
            // s[p] = a[p]^α / w[p]^(1−α); the activations get 1 / s, the weight's columns s.
            let multipliers = try #require(smoothed.inputMultipliers).toArray()
            let columnMaxima = (0..<columns).map { p in (0..<outputs).map { abs(w[$0 * columns + p]) }.max()! }
            let s = (0..<columns).map { p in
                Float(pow(Double(maxima[p]), Double(strength)) / pow(Double(columnMaxima[p]), Double(1 - strength)))
            }
            assertClose(multipliers, s.map { 1 / $0 }, rtol: 1e-4, atol: 0, "multipliers, strength \(strength) on \(device)")
            // The int8 values quantise the smoothed weight w · s; dequantised, they stand for w again.
            let dequantized = try smoothed.dequantized().toArray()
            let scaled = (0..<(outputs * columns)).map { w[$0] * s[$0 % columns] }
            let step = (0..<outputs).map { j in (0..<columns).map { abs(scaled[j * columns + $0]) }.max()! / 127 }
            for j in 0..<outputs {
                for p in 0..<columns {
                    #expect(abs(dequantized[j * columns + p] * s[p] - scaled[j * columns + p]) <= step[j] * 0.5001,
                            "weight [\(j), \(p)], strength \(strength) on \(device)")
                }
            }
            let result = try input.quantizedLinear(smoothed).toArray()
            let (smoothError, plainError) = (Self.relativeError(result, expected), Self.relativeError(plain, expected))
            #expect(smoothError < 0.01, "strength \(strength) on \(device): relative error \(smoothError)")
            #expect(smoothError < 0.6 * plainError, "strength \(strength) on \(device): \(smoothError) against \(plainError) unsmoothed")
            // The matrix keeps its multipliers on another device.
            #expect(try smoothed.to(.cpu).inputMultipliers?.toArray() == multipliers)
        }
    }

    @Test("bad smoothing input is an error, not a trap")
    func errors() throws {
        let weight = try Tensor(Fixtures.values(12, seed: 95), shape: [3, 4])
        let maxima = try Tensor([1, 2, 3, 4], shape: [4])
        #expect(throws: CortadoError.self) { try QuantizedMatrix(quantizing: weight, scheme: .perChannel, smoothing: Tensor([1, 2, 3], shape: [3]), strength: 0.5) }
        #expect(throws: CortadoError.self) { try QuantizedMatrix(quantizing: weight, scheme: .perChannel, smoothing: maxima, strength: 1.5) }
        #expect(throws: CortadoError.self) { try QuantizedMatrix(quantizing: weight, scheme: .perChannel, smoothing: maxima, strength: .nan) }
        #expect(throws: CortadoError.self) { try QuantizedMatrix(quantizing: weight, scheme: .perChannel, smoothing: Tensor([1, .nan, 3, 4], shape: [4]), strength: 0.5) }
        #expect(throws: CortadoError.self) { try QuantizedMatrix(quantizing: weight, scheme: .perChannel, smoothing: Tensor([1, -2, 3, 4], shape: [4]), strength: 0.5) }
        // A column that calibration never saw move keeps the factor 1.
        let zeroColumn = try QuantizedMatrix(quantizing: weight, scheme: .perChannel, smoothing: Tensor([0, 2, 3, 4], shape: [4]), strength: 0.5)
        #expect(try zeroColumn.inputMultipliers?.toArray()[0] == 1)
        let matrix = try QuantizedMatrix(quantizing: weight, scheme: .perChannel)
        #expect(throws: CortadoError.self) { try matrix.withInputMultipliers(Tensor([1, 1, 1], shape: [3])) }
        #expect(throws: CortadoError.self) { try matrix.withInputMultipliers(Tensor([1, 0, 1, 1], shape: [4])) }
        #expect(throws: CortadoError.self) { try Tensor([Float](repeating: 1, count: 8), shape: [2, 4]).quantizedRows(block: 4, multipliers: Tensor([1, 1], shape: [2])) }
        #expect(try matrix.withInputMultipliers(maxima).withInputMultipliers(nil).inputMultipliers == nil)
    }

    @Test("calibration records each Linear's largest |input| per column over every batch")
    func calibration() throws {
        let first = try Linear(6, 5), second = try Linear(5, 2)
        let model = Sequential(first, ReLU(), second)
        let batches = [Fixtures.values(3 * 6, seed: 96, low: -2, high: 2), Fixtures.values(4 * 6, seed: 97, low: -7, high: 7)]
        var seen: [String: [[Float]]] = ["0": [], "2": []]
        let maxima = try model.calibrateInputColumnMaxima {
            for values in batches {
                let x = try Tensor(values, shape: [values.count / 6, 6])
                seen["0"]!.append(values)
                seen["2"]!.append(try ReLU()(first(x)).toArray())
                _ = try model(x)
            }
        }
        #expect(Set(maxima.keys) == ["0", "2"])
        for (name, columns) in [("0", 6), ("2", 5)] {
            let values = seen[name]!.flatMap { $0 }
            let want = (0..<columns).map { p in stride(from: p, to: values.count, by: columns).map { abs(values[$0]) }.max()! }
            #expect(try maxima[name]!.toArray() == want, "layer \(name)")
        }
        #expect(throws: CortadoError.self) {
            try model.calibrateInputColumnMaxima { _ = try model(Tensor([Float](repeating: .infinity, count: 6), shape: [1, 6])) }
        }
    }
}
