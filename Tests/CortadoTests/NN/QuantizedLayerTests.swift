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
            try Conv2D(2, 4, kernelSize: 3, padding: 1, device: device, generator: generator), ReLU(), Flatten(),
            try Linear(4 * 5 * 5, 16, device: device, generator: generator), ReLU(),
            try Linear(16, 3, device: device, generator: generator))
        let x = try Tensor(Fixtures.values(2 * 2 * 5 * 5, seed: 61), shape: [2, 2, 5, 5], device: device)
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

    @Test("an int8 weight of the wrong shape is an error")
    func wrongShape() throws {
        let layer = try Linear(4, 3)
        let other = try QuantizedMatrix(quantizing: Tensor(Fixtures.values(8), shape: [2, 4]), scheme: .perChannel)
        #expect(throws: CortadoError.self) { try layer.useQuantizedWeight(other) }
        #expect(layer.quantizedWeight == nil)
    }
}
