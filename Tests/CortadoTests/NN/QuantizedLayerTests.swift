import Cortado
import CortadoNN
import Testing

/// `Module.quantizeLinearLayers`: which layers it quantises, that they then compute with their int8
/// weights (the quantised op on the same weight), and that kept layers stay float.
@Suite("Quantized layers")
struct QuantizedLayerTests {
    @Test("a quantised model computes with int8 weights and names its layers", arguments: TestDevices.all)
    func model(device: Device) throws {
        let generator = RandomGenerator(seed: 7)
        let model = Sequential(
            try Conv2D(4, 4, kernelSize: 3, padding: 1, device: device, generator: generator), ReLU(), Flatten(),
            try Linear(4 * 5 * 5, 16, device: device, generator: generator), ReLU(),
            try Linear(16, 3, device: device, generator: generator))
        let x = try Tensor(Fixtures.values(2 * 4 * 5 * 5, seed: 61), shape: [2, 4, 5, 5], device: device)
        let float = try model(x).toArray()
        let names = try model.quantizeLinearLayers(.perChannel, keepingFloat: { $0 == "5" })
        #expect(names == ["0", "3"])
        let layers = model.quantizableLayers()
        #expect(layers.map(\.name) == ["0", "3", "5"])
        #expect(layers.map { $0.layer.quantizedWeight != nil } == [true, true, false])
        let quantized = try model(x).toArray()
        assertClose(quantized, float, rtol: 0.05, atol: 0.05, "int8 vs float32 on \(device)")
        #expect(quantized != float)
        // Layer 3 by hand: its int8 op on the output of the layers before it.
        let hidden = try Sequential(layers[0].layer, ReLU(), Flatten())(x)
        let linear = try #require(layers[1].layer as? Linear)
        let expected = try hidden.quantizedLinear(try #require(linear.quantizedWeight), bias: linear.bias?.value)
        try assertClose(linear(hidden), try expected.toArray(), rtol: 0, atol: 0, "layer 3 on \(device)")
        // Back to float.
        for (_, layer) in layers { try layer.useQuantizedWeight(nil) }
        assertClose(try model(x).toArray(), float, rtol: 0, atol: 0, "float again on \(device)")
    }

    @Test("a convolution with fewer than 32 inputs per output stays float; a Linear of any width goes int8")
    func smallConvolutionStaysFloat() throws {
        let model = Sequential(try Conv2D(1, 4, kernelSize: 3), Flatten(), try Linear(4 * 2 * 2, 3), try Linear(3, 2))
        #expect(model.quantizableLayers().map(\.layer.gainsFromInt8) == [false, true, true])
        #expect(try model.quantizeLinearLayers(.perChannel) == ["2", "3"])
        #expect(model.quantizableLayers()[0].layer.quantizedWeight == nil)
        let wide = try Conv2D(4, 2, kernelSize: 3)  // 36 inputs per output
        #expect(wide.gainsFromInt8)
    }

    @Test("an int8 weight of the wrong shape is an error")
    func wrongShape() throws {
        let layer = try Linear(4, 3)
        let other = try QuantizedMatrix(quantizing: Tensor(Fixtures.values(8), shape: [2, 4]), scheme: .perChannel)
        #expect(throws: CortadoError.self) { try layer.useQuantizedWeight(other) }
        #expect(layer.quantizedWeight == nil)
    }

    @Test("calibration records each block's largest |input| over every batch: Linear per block of columns, Conv2D per input")
    func calibration() throws {
        let conv = try Conv2D(1, 2, kernelSize: 2), first = try Linear(2 * 2 * 2, 40), second = try Linear(40, 3)
        let model = Sequential(conv, Flatten(), first, ReLU(), second)
        let batches = [Fixtures.values(2 * 9, seed: 71, low: -2, high: 2), Fixtures.values(3 * 9, seed: 72, low: -5, high: 5)]
        var seen: [String: [[Float]]] = ["0": [], "2": [], "4": []]
        let scales = try model.calibrateInputScales(.q8_0) {
            for values in batches {
                let x = try Tensor(values, shape: [values.count / 9, 1, 3, 3])
                seen["0"]!.append(values)
                let flat = try Flatten()(conv(x))
                seen["2"]!.append(try flat.toArray())
                seen["4"]!.append(try ReLU()(first(flat)).toArray())
                _ = try model(x)
            }
        }
        #expect(Set(scales.keys) == ["0", "2", "4"])
        // The convolution: its input's largest value, for each of its one block (4 patch columns).
        let convLargest = seen["0"]!.flatMap { $0 }.map(Swift.abs).max()!
        #expect(try scales["0"]!.toArray() == [convLargest / 127])
        // The Linears: per block of 32 columns of their input, over both batches.
        for (name, columns) in [("2", 8), ("4", 40)] {
            let rows = seen[name]!.flatMap { batch in stride(from: 0, to: batch.count, by: columns).map { Array(batch[$0..<($0 + columns)]) } }
            let blocks = (columns + 31) / 32
            let want = (0..<blocks).map { b in rows.map { row in row[(32 * b)..<min(columns, 32 * (b + 1))].map(Swift.abs).max()! }.max()! }
            let fallback = want.max()!
            #expect(try scales[name]!.toArray() == want.map { ($0 > 0 ? $0 : fallback) / 127 }, "layer \(name)")
        }
        // The observers are gone afterwards, and NaN inputs are refused.
        _ = try model(Tensor([Float](repeating: .nan, count: 9), shape: [1, 1, 3, 3]))
        #expect(throws: CortadoError.self) {
            try model.calibrateInputScales(.perChannel) { _ = try model(Tensor([Float](repeating: .nan, count: 9), shape: [1, 1, 3, 3])) }
        }
    }
}
