import Cortado
import Foundation
import Testing

/// The two ways the OpenCL backend multiplies int8 operands: `char4` products summed in int32
/// (with the device's integer dot products) and the operands dequantised for the float product
/// (without them, PoCL's case), both against int64 sums times the scales.
@Suite("OpenCL int8 products")
struct OpenCLQuantizedProductTests {
    @Test("on integers and dequantised to float, the int8 product is the integer sums times their scales, plus the bias",
          arguments: [true, false])
    func products(integer: Bool) throws {
        let (m, n, k) = (37, 45, 300)
        let device = Device(kind: .opencl, index: 0, profile: nil, instance: integer ? 310 : 311)
        let backend = try OpenCLBackend(record: DeviceRegistry.shared.record(for: device), device: device, integerProducts: integer)
        let a = Fixtures.values(m * k, seed: 71).map { Int8(($0 * 127).rounded()) }
        let w = Fixtures.values(n * k, seed: 72).map { Int8(($0 * 127).rounded()) }
        let bias = Fixtures.values(n, seed: 73)
        for block in [k, 32] {  // per channel, and ggml's Q8_0 blocks (the last one shorter)
            let blocks = (k + block - 1) / block
            let aScales = Fixtures.values(m * blocks, seed: 74, low: 0.01, high: 0.02)
            let wScales = Fixtures.values(n * blocks, seed: 75, low: 0.01, high: 0.02)
            var expected = [Float](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var total = Double(bias[j])
                    for b in 0..<blocks {
                        var sum: Int64 = 0
                        for p in (b * block)..<min(k, (b + 1) * block) { sum += Int64(a[i * k + p]) * Int64(w[j * k + p]) }
                        total += Double(sum) * Double(aScales[i * blocks + b]) * Double(wScales[j * blocks + b])
                    }
                    expected[i * n + j] = Float(total)
                }
            }
            let buffers = try [
                backend.allocator.allocate(count: m * k, dtype: .int8), backend.allocator.allocate(count: m * blocks, dtype: .float32),
                backend.allocator.allocate(count: n * k, dtype: .int8), backend.allocator.allocate(count: n * blocks, dtype: .float32),
                backend.allocator.allocate(count: n, dtype: .float32), backend.allocator.allocate(count: m * n, dtype: .float32),
            ]
            try a.withUnsafeBytes { try backend.write($0, to: buffers[0], atByte: 0) }
            try aScales.withUnsafeBytes { try backend.write($0, to: buffers[1], atByte: 0) }
            try w.withUnsafeBytes { try backend.write($0, to: buffers[2], atByte: 0) }
            try wScales.withUnsafeBytes { try backend.write($0, to: buffers[3], atByte: 0) }
            try bias.withUnsafeBytes { try backend.write($0, to: buffers[4], atByte: 0) }
            try backend.quantizedGemm(
                QuantizedGemmDescriptor(m: m, n: n, k: k, block: block), buffers[0], aScales: buffers[1], buffers[2],
                wScales: buffers[3], bias: buffers[4], into: buffers[5])
            var out = [Float](repeating: .nan, count: m * n)
            try out.withUnsafeMutableBytes { try backend.read(buffers[5], atByte: 0, into: $0) }
            assertClose(out, expected, rtol: 1e-5, atol: 1e-5, "block \(block), integer products \(integer)")
        }
    }
}
