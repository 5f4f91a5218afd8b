import Cortado
import Foundation
import Testing

@Suite("Reductions, softmax, gather")
struct ReductionTests {
    static let axisCases: [[Int]?] = [nil, [0], [1], [2], [0, 2], [1, 2], [-1]]

    @Test("sum, mean, max, min over axes match a direct loop", arguments: TestDevices.all)
    func reductionsOverAxes(device: Device) throws {
        let shape = [3, 5, 7]
        let values = Fixtures.values(105, seed: 31, low: -3, high: 3)
        let x = try Tensor(values, shape: shape, device: device)
        for axes in Self.axisCases {
            let set = Set((axes ?? [0, 1, 2]).map { $0 < 0 ? $0 + 3 : $0 })
            let n = Float(set.map { shape[$0] }.reduce(1, *))
            let sum = Reference.reduce(values, shape, axes: set, initial: 0, +)
            let keptShape = shape.indices.map { set.contains($0) ? 1 : shape[$0] }
            let droppedShape = shape.indices.filter { !set.contains($0) }.map { shape[$0] }
            try assertClose(x.sum(axes: axes), sum, shape: droppedShape, rtol: 1e-5, atol: 1e-5, "sum \(String(describing: axes))")
            try assertClose(x.sum(axes: axes, keepingDims: true), sum, shape: keptShape, rtol: 1e-5, atol: 1e-5)
            try assertClose(x.mean(axes: axes), sum.map { $0 / n }, rtol: 1e-5, atol: 1e-6, "mean")
            try assertClose(x.max(axes: axes), Reference.reduce(values, shape, axes: set, initial: -.infinity) { Swift.max($0, $1) }, "max")
            try assertClose(x.min(axes: axes), Reference.reduce(values, shape, axes: set, initial: .infinity) { Swift.min($0, $1) }, "min")
        }
    }

    @Test("reductions of long rows use the two-pass path correctly", arguments: TestDevices.all)
    func longRows(device: Device) throws {
        // 2 rows of 300 001 elements: long enough to be split into chunks on OpenCL.
        let n = 300_001
        let values = (0..<(2 * n)).map { Float(($0 * 7919) % 1000) / 1000 }
        let x = try Tensor(values, shape: [2, n], device: device)
        let sums = [0, 1].map { row in values[(row * n)..<((row + 1) * n)].reduce(0.0) { $0 + Double($1) } }
        try assertClose(x.sum(axes: [1]), sums.map(Float.init), rtol: 1e-5)
        try assertClose(x.max(axes: [1]), [0.999, 0.999])
        try assertClose(x.sum(), [Float(sums[0] + sums[1])], rtol: 1e-5)
    }

    @Test("argmax returns the first largest index, as int32", arguments: TestDevices.all)
    func argmax(device: Device) throws {
        let x = try Tensor([1, 5, 5, 2, 9, 0, 3, 3, 8, 8, 1, 8], shape: [3, 4], device: device)
        #expect(try x.argmax(axis: 1).toIntArray() == [1, 0, 0])
        #expect(try x.argmax(axis: 0).toIntArray() == [1, 2, 0, 2])
        #expect(try x.argmax().toIntArray() == [4])
        #expect(try x.argmax(axis: 1, keepingDims: true).shape == [3, 1])
        // A long row: the work-group reduction must keep the first of equal maxima.
        var long = [Float](repeating: 0, count: 5000)
        long[1234] = 7
        long[4321] = 7
        #expect(try Tensor(long, shape: [1, 5000], device: device).argmax(axis: 1).toIntArray() == [1234])
    }

    @Test("reduction gradients match finite differences", arguments: TestDevices.all)
    func reductionGradients(device: Device) throws {
        let values = Fixtures.distinct(24, seed: 32)
        for axes in Self.axisCases {
            try checkGradients(on: device, [(values, [2, 3, 4])], "sum \(String(describing: axes))") { try $0[0].sum(axes: axes) }
            try checkGradients(on: device, [(values, [2, 3, 4])], "mean") { try $0[0].mean(axes: axes, keepingDims: true) }
            try checkGradients(on: device, [(values, [2, 3, 4])], eps: 1e-3, "max") { try $0[0].max(axes: axes) }
            try checkGradients(on: device, [(values, [2, 3, 4])], eps: 1e-3, "min") { try $0[0].min(axes: axes) }
        }
    }

    @Test("max shares its gradient among ties", arguments: TestDevices.all)
    func maxTies(device: Device) throws {
        let x = try Tensor([3, 1, 3, 2], device: device).requiringGrad()
        try x.max().backward()
        try assertClose(x.grad!, [0.5, 0, 0.5, 0])
    }

    @Test("softmax and log-softmax are stable and sum to one", arguments: TestDevices.all)
    func softmax(device: Device) throws {
        // Large logits would overflow a naive exp.
        let logits: [Float] = [1000, 1001, 1002, -5, 0, 5, 0.1, 0.2, 0.3, 7, 7, 7]
        let x = try Tensor(logits, shape: [4, 3], device: device)
        var expected: [Float] = []
        var expectedLog: [Float] = []
        for row in 0..<4 {
            let r = logits[(row * 3)..<(row * 3 + 3)].map(Double.init)
            let m = r.max()!
            let total = r.map { Foundation.exp($0 - m) }.reduce(0, +)
            expected += r.map { Float(Foundation.exp($0 - m) / total) }
            expectedLog += r.map { Float($0 - m - Foundation.log(total)) }
        }
        try assertClose(x.softmax(axis: 1), expected, rtol: 1e-5, atol: 1e-7)
        try assertClose(x.logSoftmax(axis: -1), expectedLog, rtol: 1e-5, atol: 1e-5)
        // Along axis 0 (inner > 1): compare with the transposed problem.
        let alongRows = try x.transposed().contiguous().softmax(axis: 1).transposed().contiguous().toArray()
        try assertClose(x.softmax(axis: 0), alongRows, rtol: 1e-6, atol: 1e-7)
    }

    @Test("softmax gradients match finite differences", arguments: TestDevices.all)
    func softmaxGradients(device: Device) throws {
        let values = Fixtures.values(12, seed: 33, low: -2, high: 2)
        for axis in [0, 1, -1] {
            try checkGradients(on: device, [(values, [3, 4])], eps: 1e-3, "softmax \(axis)") { try $0[0].softmax(axis: axis) }
            try checkGradients(on: device, [(values, [3, 4])], eps: 1e-3, "logSoftmax \(axis)") { try $0[0].logSoftmax(axis: axis) }
        }
    }

    @Test("gather picks one element per row and scatters its gradient", arguments: TestDevices.all)
    func gather(device: Device) throws {
        let x = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], device: device)
        let picked = try x.gathered(indices: Tensor(indices: [2, 0], device: device), axis: 1)
        try assertClose(picked, [3, 4], shape: [2])
        let down = try x.gathered(indices: Tensor(indices: [1, 0, 1], device: device), axis: 0)
        try assertClose(down, [4, 2, 6], shape: [3])
        try checkGradients(on: device, [(Fixtures.values(6, seed: 34), [2, 3])], "gather") {
            try $0[0].gathered(indices: Tensor(indices: [1, 2], device: device), axis: 1)
        }
        #expect(throws: CortadoError.self) { try x.gathered(indices: Tensor(indices: [1], device: device), axis: 1) }
    }
}
