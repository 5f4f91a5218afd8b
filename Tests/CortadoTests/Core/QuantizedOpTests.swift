import Cortado
import Testing

/// The quantised ops (`quantizedRows`, `quantizedLinear`, `quantizedConv2d`) on every device
/// against double-loop references that quantise by the definition, and OpenCL against the CPU.
@Suite("Quantized ops")
struct QuantizedOpTests {
    /// Symmetric int8 quantisation of one block by its definition.
    static func quantize(_ x: [Float]) -> (values: [Int8], scale: Float) {
        let scale = (x.map { abs($0) }.max() ?? 0) / 127
        guard scale > 0 else { return (x.map { _ in 0 }, 0) }
        let inverse = 1 / scale
        return (x.map { Int8(max(-127, min(127, ($0 * inverse).rounded(.toNearestOrEven)))) }, scale)
    }

    /// `x[rows, k] · wᵀ + bias` with both operands quantised per row and block, summed in double.
    static func referenceLinear(_ x: [Float], rows: Int, _ w: [Float], outputs: Int, k: Int, block: Int, bias: [Float]?) -> [Float] {
        let blocks = (k + block - 1) / block
        func quantized(_ m: [Float], _ r: Int) -> [(values: [Int8], scale: Float)] {
            (0..<blocks).map { b in quantize(Array(m[(r * k + b * block)..<(r * k + min(k, (b + 1) * block))])) }
        }
        let xq = (0..<rows).map { quantized(x, $0) }, wq = (0..<outputs).map { quantized(w, $0) }
        var out = [Float](repeating: 0, count: rows * outputs)
        for i in 0..<rows {
            for j in 0..<outputs {
                var total = Double(bias?[j] ?? 0)
                for b in 0..<blocks {
                    let sum = zip(xq[i][b].values, wq[j][b].values).reduce(0) { $0 + Int($1.0) * Int($1.1) }
                    total += Double(sum) * Double(xq[i][b].scale) * Double(wq[j][b].scale)
                }
                out[i * outputs + j] = Float(total)
            }
        }
        return out
    }

    @Test("quantizedRows matches the definition", arguments: TestDevices.all)
    func rows(device: Device) throws {
        let (rows, k) = (7, 70)
        let x = Fixtures.values(rows * k, seed: 51, low: -2, high: 2)
        for block in [k, 32] {
            let (values, scales) = try Tensor(x, shape: [rows, k], device: device).quantizedRows(block: block)
            let blocks = (k + block - 1) / block
            #expect(scales.shape == [rows, blocks] && values.dtype == .int8)
            let (gotValues, gotScales) = (try values.elements(as: Int8.self), try scales.toArray())
            var mismatches = 0
            for r in 0..<rows {
                for b in 0..<blocks {
                    let range = (r * k + b * block)..<(r * k + min(k, (b + 1) * block))
                    let (want, scale) = Self.quantize(Array(x[range]))
                    assertClose([gotScales[r * blocks + b]], [scale], rtol: 1e-6, atol: 0, "scale \(r) \(b) on \(device)")
                    // OpenCL's division may differ by an ulp, which can move a value at a tie by one.
                    mismatches += zip(gotValues[range], want).filter { abs(Int($0) - Int($1)) > 1 }.count
                    mismatches += device == .cpu ? zip(gotValues[range], want).filter { $0 != $1 }.count : 0
                }
            }
            #expect(mismatches == 0, "block \(block) on \(device)")
        }
    }

    @Test("quantizedRows with static scales: every row's block b divided by fixed[b], saturating; a NaN block gets a NaN scale",
          arguments: TestDevices.all)
    func fixedRows(device: Device) throws {
        let (rows, k, block) = (5, 70, 32)
        var x = Fixtures.values(rows * k, seed: 52, low: -3, high: 3)
        x[2 * k + 40] = .nan  // row 2, block 1
        let fixed: [Float] = [0.01, 0.02, 0.015]  // 1.27, 2.54, 1.905: values past them saturate
        let (values, scales) = try Tensor(x, shape: [rows, k], device: device)
            .quantizedRows(block: block, fixed: Tensor(fixed, shape: [3], device: device))
        let (gotValues, gotScales) = (try values.elements(as: Int8.self), try scales.toArray())
        var mismatches = 0, saturated = 0
        for r in 0..<rows {
            for b in 0..<3 {
                let range = (r * k + b * block)..<(r * k + min(k, (b + 1) * block))
                if r == 2 && b == 1 {
                    #expect(gotScales[r * 3 + b].isNaN, "the NaN block's scale on \(device)")
                    continue
                }
                #expect(gotScales[r * 3 + b] == fixed[b])
                for p in range {
                    let exact = x[p] * (1 / fixed[b])  // as the kernels compute it
                    let want = Int8(max(-127, min(127, exact.rounded(.toNearestOrEven))))
                    saturated += abs(exact) > 127 ? 1 : 0
                    // OpenCL multiplies by the inverse, which may move a value at a tie by one.
                    mismatches += abs(Int(gotValues[p]) - Int(want)) > (device == .cpu ? 0 : 1) ? 1 : 0
                }
            }
        }
        #expect(mismatches == 0, "on \(device)")
        #expect(saturated > 0, "the fixture should reach past the static scales")
        #expect(throws: CortadoError.self) { try Tensor(x, shape: [rows, k], device: device).quantizedRows(block: block, fixed: Tensor([0.1], shape: [1], device: device)) }
    }

    @Test("quantizedLinear with a static scale equal to each row's largest value gives the dynamic result", arguments: TestDevices.all)
    func staticEqualsDynamic(device: Device) throws {
        let k = 40
        let x = Fixtures.values(k, seed: 53, low: -1, high: 1), w = Fixtures.values(3 * k, seed: 54, low: -1, high: 1)
        let matrix = try QuantizedMatrix(quantizing: Tensor(w, shape: [3, k], device: device), scheme: .perChannel)
        let input = try Tensor(x, shape: [1, k], device: device)
        let dynamic = try input.quantizedLinear(matrix).toArray()
        let largest = x.map(Swift.abs).max() ?? 1
        let fixed = try matrix.withInputScales(Tensor([largest / 127], shape: [1], device: device))
        #expect(try input.quantizedLinear(fixed).toArray() == dynamic)
        // A smaller static scale saturates the largest inputs and changes the product.
        let tight = try matrix.withInputScales(Tensor([largest / 254], shape: [1], device: device))
        #expect(try input.quantizedLinear(tight).toArray() != dynamic)
        #expect(throws: CortadoError.self) { try matrix.withInputScales(Tensor([0], shape: [1], device: device)) }
        #expect(throws: CortadoError.self) { try matrix.withInputScales(Tensor([1, 1], shape: [2], device: device)) }
    }

    @Test("quantizedLinear matches a double-loop reference", arguments: TestDevices.all)
    func linear(device: Device) throws {
        for (rows, inputs, outputs) in [(9, 70, 37), (64, 130, 100), (1, 8, 3)] {
            let x = Fixtures.values(rows * inputs, seed: 52, low: -2, high: 2)
            let w = Fixtures.values(outputs * inputs, seed: 53, low: -0.5, high: 0.5)
            let bias = Fixtures.values(outputs, seed: 54)
            for scheme in QuantizationScheme.allCases {
                let weight = try QuantizedMatrix(quantizing: Tensor(w, shape: [outputs, inputs], device: device), scheme: scheme)
                let out = try Tensor(x, shape: [rows, inputs], device: device)
                    .quantizedLinear(weight, bias: Tensor(bias, device: device))
                let expected = Self.referenceLinear(x, rows: rows, w, outputs: outputs, k: inputs,
                                                    block: scheme.block(columns: inputs), bias: bias)
                // A rounding tie decided differently moves a product by one step of a scale.
                try assertClose(out, expected, shape: [rows, outputs], rtol: 1e-4, atol: device == .cpu ? 1e-4 : 2e-2,
                                "\(rows)×\(inputs)→\(outputs) \(scheme) on \(device)")
                // Against float32: the quantisation error of 8 bits.
                let float = try Tensor(x, shape: [rows, inputs]).linear(
                    weight: Tensor(w, shape: [outputs, inputs]), bias: Tensor(bias))
                try assertClose(out, try float.toArray(), rtol: 0.05, atol: 0.12, "\(scheme) vs float32 on \(device)")
            }
        }
    }

    @Test("dequantized weights are the values times their scales")
    func dequantize() throws {
        let w = Fixtures.values(5 * 70, seed: 55)
        for scheme in QuantizationScheme.allCases {
            let q = try QuantizedMatrix(quantizing: Tensor(w, shape: [5, 70]), scheme: scheme)
            let (values, scales) = (try q.values.elements(as: Int8.self), try q.scales.toArray())
            let blocks = scheme.blocks(columns: 70), block = scheme.block(columns: 70)
            let expected = (0..<(5 * 70)).map { index in
                Float(values[index]) * scales[(index / 70) * blocks + (index % 70) / block]
            }
            try assertClose(q.dequantized(), expected, shape: [5, 70], rtol: 0, atol: 0, "\(scheme)")
            try assertClose(q.dequantized(), w, rtol: 0, atol: 1.0 / 254 + 1e-6, "\(scheme) vs the original")
        }
    }

    @Test("quantizedConv2d matches a double-loop reference", arguments: TestDevices.all)
    func conv(device: Device) throws {
        let (batch, channels, height, width, outChannels, kh, kw) = (2, 3, 7, 6, 5, 3, 2)
        let (stride, pad) = (2, 1)
        let x = Fixtures.values(batch * channels * height * width, seed: 56, low: -1, high: 1)
        let w = Fixtures.values(outChannels * channels * kh * kw, seed: 57, low: -0.5, high: 0.5)
        let bias = Fixtures.values(outChannels, seed: 58)
        let patch = channels * kh * kw
        let weight = try QuantizedMatrix(quantizing: Tensor(w, shape: [outChannels, patch], device: device), scheme: .perChannel)
        let out = try Tensor(x, shape: [batch, channels, height, width], device: device).quantizedConv2d(
            weight: weight, kernel: Size2D(kh, kw), bias: Tensor(bias, device: device), stride: Size2D(stride, stride),
            padding: Size2D(pad, pad))
        let outH = (height + 2 * pad - kh) / stride + 1, outW = (width + 2 * pad - kw) / stride + 1
        // Patches gathered by loops, then the linear reference.
        var patches: [Float] = []
        for n in 0..<batch {
            for oy in 0..<outH {
                for ox in 0..<outW {
                    for c in 0..<channels {
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let (y, xx) = (oy * stride - pad + ky, ox * stride - pad + kx)
                                let inside = y >= 0 && y < height && xx >= 0 && xx < width
                                patches.append(inside ? x[((n * channels + c) * height + y) * width + xx] : 0)
                            }
                        }
                    }
                }
            }
        }
        let rows = Self.referenceLinear(patches, rows: batch * outH * outW, w, outputs: outChannels, k: patch, block: patch, bias: bias)
        var expected = [Float](repeating: 0, count: rows.count)
        for n in 0..<batch {
            for p in 0..<(outH * outW) {
                for o in 0..<outChannels { expected[(n * outChannels + o) * outH * outW + p] = rows[(n * outH * outW + p) * outChannels + o] }
            }
        }
        try assertClose(out, expected, shape: [batch, outChannels, outH, outW], rtol: 1e-4, atol: device == .cpu ? 1e-4 : 2e-2,
                        "conv on \(device)")
    }

    @Test("OpenCL products match the CPU", arguments: TestDevices.openCLVariants)
    func crossBackend(device: Device) throws {
        let (rows, inputs, outputs) = (50, 200, 72)
        let x = Fixtures.values(rows * inputs, seed: 59, low: -3, high: 3)
        let w = Fixtures.values(outputs * inputs, seed: 60)
        for scheme in QuantizationScheme.allCases {
            let cpuWeight = try QuantizedMatrix(quantizing: Tensor(w, shape: [outputs, inputs]), scheme: scheme)
            let cpu = try Tensor(x, shape: [rows, inputs]).quantizedLinear(cpuWeight)
            let other = try Tensor(x, shape: [rows, inputs], device: device).quantizedLinear(cpuWeight.to(device))
            try assertClose(other, try cpu.toArray(), rtol: 1e-4, atol: 3e-2, "\(scheme) on \(device)")
        }
    }

    @Test("bad operands are errors, not traps")
    func errors() throws {
        let weight = try QuantizedMatrix(quantizing: Tensor(Fixtures.values(12), shape: [3, 4]), scheme: .perChannel)
        #expect(throws: CortadoError.self) { try Tensor(Fixtures.values(10), shape: [2, 5]).quantizedLinear(weight) }
        #expect(throws: CortadoError.self) { try Tensor(Fixtures.values(8), shape: [2, 4]).quantizedLinear(weight, bias: Tensor([1, 2])) }
        #expect(throws: CortadoError.self) { try QuantizedMatrix(quantizing: Tensor(Fixtures.values(8)), scheme: .q8_0) }
        #expect(throws: CortadoError.self) {
            try QuantizedMatrix(values: weight.values, scales: Tensor([1, 2]), scheme: .perChannel)
        }
        #expect(throws: CortadoError.self) {
            try QuantizedMatrix(values: Tensor(Fixtures.values(12), shape: [3, 4]), scales: weight.scales, scheme: .perChannel)
        }
    }
}
