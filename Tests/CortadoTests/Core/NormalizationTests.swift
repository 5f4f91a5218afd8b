import Cortado
import Foundation
import Testing

@Suite("LayerNorm")
struct NormalizationTests {
    /// Runs LayerNorm forward and backward on `device`: y, dx, dweight, dbias.
    static func run(
        _ x: [Float], shape: [Int], weight: [Float]?, bias: [Float]?, epsilon: Float, dy: [Float], on device: Device
    ) throws -> (y: [Float], dx: [Float], dWeight: [Float]?, dBias: [Float]?) {
        let width = shape.last!
        let input = try Tensor(x, shape: shape, device: device).requiringGrad()
        let w = try weight.map { try Tensor($0, shape: [width], device: device).requiringGrad() }
        let b = try bias.map { try Tensor($0, shape: [width], device: device).requiringGrad() }
        let y = try input.layerNorm(weight: w, bias: b, epsilon: epsilon)
        try y.backward(gradient: Tensor(dy, shape: shape, device: device))
        return (try y.toArray(), try input.grad!.toArray(), try w?.grad?.toArray(), try b?.grad?.toArray())
    }

    @Test("matches a double-precision reference at short, odd and long widths", arguments: TestDevices.all)
    func reference(device: Device) throws {
        // Width 3: several rows per work-group; 37: no multiple of a vector or a work-group; 1000:
        // longer than the work-group; an offset of 1000: the variance must not cancel.
        let cases: [(shape: [Int], offset: Float, affine: Bool)] = [
            ([7, 3], 0, true), ([3, 5, 37], 0, true), ([67, 37], 0, false), ([5, 1000], 0, true), ([9, 64], 1000, true),
        ]
        for (index, c) in cases.enumerated() {
            let (count, width) = (c.shape.reduce(1, *), c.shape.last!)
            let seed = UInt64(200 + 10 * index)
            let x = Fixtures.values(count, seed: seed, low: -2, high: 2).map { $0 + c.offset }
            let weight = c.affine ? Fixtures.values(width, seed: seed + 1, low: 0.5, high: 1.5) : nil
            let bias = c.affine ? Fixtures.values(width, seed: seed + 2) : nil
            let dy = Fixtures.values(count, seed: seed + 3)
            let expected = LayerNormReference.run(x, width: width, weight: weight, bias: bias, epsilon: 1e-5, dy: dy)
            let got = try Self.run(x, shape: c.shape, weight: weight, bias: bias, epsilon: 1e-5, dy: dy, on: device)
            let context = "\(c.shape) offset \(c.offset) on \(device)"
            assertClose(got.y, expected.y, rtol: 1e-4, atol: 1e-4, "y \(context)")
            assertClose(got.dx, expected.dx, rtol: 1e-3, atol: c.offset == 0 ? 1e-4 : 2e-3, "dx \(context)")
            if c.affine {
                assertClose(got.dWeight ?? [], expected.dWeight, rtol: 1e-4, atol: 1e-4, "dweight \(context)")
                assertClose(got.dBias ?? [], expected.dBias, rtol: 1e-4, atol: 1e-4, "dbias \(context)")
            }
        }
    }

    @Test("gradients match finite differences, with and without weight and bias", arguments: TestDevices.all)
    func gradients(device: Device) throws {
        let x = Fixtures.values(4 * 7, seed: 211, low: -2, high: 2)
        let w = Fixtures.values(7, seed: 212, low: 0.5, high: 1.5), b = Fixtures.values(7, seed: 213)
        try checkGradients(on: device, [(x, [4, 7]), (w, [7]), (b, [7])], eps: 1e-2, "layerNorm affine") { t in
            try t[0].layerNorm(weight: t[1], bias: t[2])
        }
        try checkGradients(on: device, [(x, [2, 2, 7])], eps: 1e-2, "layerNorm plain") { t in
            try t[0].layerNorm(weight: nil, bias: nil, epsilon: 1e-3)
        }
        try checkGradients(on: device, [(x, [4, 7]), (b, [7])], eps: 1e-2, "layerNorm bias only") { t in
            try t[0].layerNorm(weight: nil, bias: t[1])
        }
    }

    @Test("the weight and bias gradients are the same on every run and agree with the CPU",
          arguments: TestDevices.openCLVariants)
    func deterministicAndAgrees(device: Device) throws {
        let shape = [300, 96]
        let x = Fixtures.values(300 * 96, seed: 221, low: -3, high: 3), dy = Fixtures.values(300 * 96, seed: 222)
        let w = Fixtures.values(96, seed: 223), b = Fixtures.values(96, seed: 224)
        let first = try Self.run(x, shape: shape, weight: w, bias: b, epsilon: 1e-12, dy: dy, on: device)
        let second = try Self.run(x, shape: shape, weight: w, bias: b, epsilon: 1e-12, dy: dy, on: device)
        #expect(first.dWeight == second.dWeight && first.dBias == second.dBias && first.dx == second.dx)
        let cpu = try Self.run(x, shape: shape, weight: w, bias: b, epsilon: 1e-12, dy: dy, on: .cpu)
        assertClose(first.y, cpu.y, rtol: 1e-5, atol: 1e-5, "y cpu vs \(device)")
        assertClose(first.dx, cpu.dx, rtol: 1e-4, atol: 1e-5, "dx cpu vs \(device)")
        assertClose(first.dWeight ?? [], cpu.dWeight ?? [], rtol: 1e-4, atol: 1e-4, "dweight cpu vs \(device)")
        assertClose(first.dBias ?? [], cpu.dBias ?? [], rtol: 1e-5, atol: 1e-5, "dbias cpu vs \(device)")
    }

    @Test("rejects bad shapes and works on views", arguments: TestDevices.all)
    func shapesAndViews(device: Device) throws {
        let x = try Tensor(Fixtures.values(24, seed: 231), shape: [4, 6], device: device)
        #expect(throws: CortadoError.self) { try x.layerNorm(weight: Tensor.ones([5], device: device), bias: nil) }
        #expect(throws: CortadoError.self) { try x.layerNorm(weight: nil, bias: Tensor.ones([6, 1], device: device)) }
        #expect(throws: CortadoError.self) { try Tensor.zeros([3, 0], device: device).layerNorm(weight: nil, bias: nil) }
        // A transposed (non-contiguous) input normalises the rows of what it shows.
        let t = try x.transposed()
        let expected = try t.contiguous().layerNorm(weight: nil, bias: nil).toArray()
        try assertClose(t.layerNorm(weight: nil, bias: nil), expected, shape: [6, 4])
    }

    @Test("tables stored before the fused kernels decode with defaults; bad parameters are refused")
    func storedTables() throws {
        for profile in KernelProfile.allCases {
            let table = KernelParameters.defaults(for: profile)
            try table.normalization.validate()
            try table.attention.validate()
            var json = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(table)) as? [String: Any])
            json["normalization"] = nil
            json["attention"] = nil
            let old = try JSONDecoder().decode(KernelParameters.self, from: JSONSerialization.data(withJSONObject: json))
            #expect(old.normalization == .portable(workGroup: table.reductionWorkGroup))
            #expect(old.attention == .portable && old.gemm == table.gemm)
            #expect(try JSONDecoder().decode(KernelParameters.self, from: JSONEncoder().encode(table)) == table)
        }
        #expect(throws: CortadoError.self) { try KernelParameters.Normalization(workGroup: 48, itemsPerRow: 1, vectorWidth: 4, rowsPerBlock: 8).validate() }
        var attention = KernelParameters.Attention.portable
        attention.chunk = 4
        #expect(throws: CortadoError.self) { try attention.validate() }
    }

    @Test("a stored tuned table with invalid LayerNorm or attention parameters is ignored")
    func invalidStoredTableIgnored() throws {
        let directory = try TemporaryDirectory()
        let store = TunedParameterStore(directory: directory.url)
        let record = try DeviceRegistry.shared.record(for: TestDevices.openCL)
        var tuned = KernelParameters.defaults(for: .cpu)
        tuned.attention.chunk = 5
        try store.save(TunedParameterStore.Entry(
            device: record.info.name, driver: record.info.driverVersion, platform: record.info.platform ?? "",
            parameters: tuned, defaultScore: 1, tunedScore: 2, date: "2026-11-22T00:00:00Z"), for: record.info)
        #expect(store.entry(for: record.info) == nil)
        tuned = KernelParameters.defaults(for: .cpu)
        tuned.normalization.workGroup = 12
        try store.save(TunedParameterStore.Entry(
            device: record.info.name, driver: record.info.driverVersion, platform: record.info.platform ?? "",
            parameters: tuned, defaultScore: 1, tunedScore: 2, date: "2026-11-22T00:00:00Z"), for: record.info)
        #expect(store.entry(for: record.info) == nil)
    }

    @Test("forward and backward leave no buffer behind", arguments: TestDevices.all)
    func releasesBuffers(device: Device) throws {
        try expectNoLeaks("on \(device)") {
            let x = try Tensor(Fixtures.values(50 * 40, seed: 241), shape: [50, 40], device: device).requiringGrad()
            let w = try Tensor.ones([40], device: device).requiringGrad()
            let b = try Tensor.zeros([40], device: device).requiringGrad()
            try x.layerNorm(weight: w, bias: b).square().sum().backward()
            _ = try w.grad!.toArray()
            _ = try x.grad!.toArray()
        }
    }
}
