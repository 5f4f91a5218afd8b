import Cortado
import Testing

@Suite("Views and copies")
struct ViewTests {
    let values = (0..<24).map(Float.init)

    @Test("reshape, permute, transpose, slice and expand read the right elements", arguments: TestDevices.all)
    func viewsReadTheRightElements(device: Device) throws {
        let x = try Tensor(values, shape: [2, 3, 4], device: device)
        try assertClose(x.reshaped([4, -1]), values, shape: [4, 6])
        // permute to [4, 2, 3]: out[k, i, j] = x[i, j, k]
        let permuted = (0..<24).map { n -> Float in
            let (k, i, j) = (n / 6, (n / 3) % 2, n % 3)
            return values[i * 12 + j * 4 + k]
        }
        try assertClose(x.permuted([2, 0, 1]), permuted, shape: [4, 2, 3])
        try assertClose(x.transposed(0, 2).transposed(0, 2), values, shape: [2, 3, 4])
        // slice along axis 2, elements 1 and 3
        let sliced: [Float] = (0..<12).map { (n: Int) -> Float in values[(n / 2) * 4 + 1 + 2 * (n % 2)] }
        try assertClose(x.sliced(axis: 2, 1..<4, step: 2), sliced, shape: [2, 3, 2])
        // expand [3, 1] to [2, 3, 5]
        let column = try Tensor([1, 2, 3], shape: [3, 1], device: device)
        try assertClose(column.expanded(to: [2, 3, 5]), (0..<30).map { Float(($0 / 5) % 3 + 1) }, shape: [2, 3, 5])
        // a reshape of a non-contiguous view copies
        try assertClose(x.transposed(1, 2).reshaped([8, 3]), (0..<24).map { n -> Float in
            let (i, k, j) = (n / 12, (n / 3) % 4, n % 3)
            return values[i * 12 + j * 4 + k]
        }, shape: [8, 3])
        try assertClose(x.unsqueezed(axis: 1), values, shape: [2, 1, 3, 4])
        try assertClose(x.unsqueezed(axis: -1).squeezed(), values, shape: [2, 3, 4])
        try assertClose(x.flattened(from: 1), values, shape: [2, 12])
    }

    @Test("concat joins along any axis", arguments: TestDevices.all)
    func concat(device: Device) throws {
        let a = try Tensor([1, 2, 3, 4], shape: [2, 2], device: device)
        let b = try Tensor([5, 6], shape: [2, 1], device: device)
        try assertClose(Tensor.concat([a, b], axis: 1), [1, 2, 5, 3, 4, 6], shape: [2, 3])
        try assertClose(Tensor.concat([a, a.transposed()], axis: 0), [1, 2, 3, 4, 1, 3, 2, 4], shape: [4, 2])
        #expect(throws: CortadoError.self) { try Tensor.concat([a, b], axis: 0) }
    }

    @Test("view gradients match finite differences", arguments: TestDevices.all)
    func viewGradients(device: Device) throws {
        let x = Fixtures.values(12, seed: 21)
        try checkGradients(on: device, [(x, [3, 4])], "reshape") { try $0[0].reshaped([2, 6]).square() }
        try checkGradients(on: device, [(x, [3, 4])], "permute") { try $0[0].transposed().square() }
        try checkGradients(on: device, [(x, [3, 4])], "slice") { try $0[0].sliced(axis: 1, 1..<4, step: 2).square() }
        try checkGradients(on: device, [(Array(x.prefix(3)), [3, 1])], "expand") { try $0[0].expanded(to: [2, 3, 4]).square() }
        try checkGradients(on: device, [(x, [3, 4]), (Array(x.prefix(6)), [3, 2])], "concat") {
            try Tensor.concat([$0[0], $0[1]], axis: 1).square()
        }
    }

    @Test("to(device) copies values and routes gradients back", arguments: TestDevices.openCLVariants)
    func crossDeviceCopy(device: Device) throws {
        let x = try Tensor(values, shape: [4, 6], device: .cpu).requiringGrad()
        let moved = try x.transposed().to(device)
        #expect(moved.device == device)
        try assertClose(moved, Reference.transpose(values, rows: 4, cols: 6), shape: [6, 4])
        try (moved * 2).sum().backward()
        #expect(x.grad?.device == .cpu)
        try assertClose(x.grad!, [Float](repeating: 2, count: 24))
    }

    @Test("invalid views are errors", arguments: TestDevices.all)
    func invalidViews(device: Device) throws {
        let x = try Tensor(values, shape: [2, 3, 4], device: device)
        #expect(throws: CortadoError.self) { try x.reshaped([5, 5]) }
        #expect(throws: CortadoError.self) { try x.permuted([0, 0, 1]) }
        #expect(throws: CortadoError.self) { try x.sliced(axis: 1, 2..<4) }
        #expect(throws: CortadoError.self) { try x.expanded(to: [3, 3, 4]) }
        #expect(throws: CortadoError.self) { try x.sum(axes: [3]) }
    }
}
