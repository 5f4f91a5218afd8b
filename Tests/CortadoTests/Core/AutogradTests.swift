import Foundation
import Cortado
import Testing

@Suite("Autograd")
struct AutogradTests {
    @Test("gradients accumulate over backward calls and through shared inputs", arguments: TestDevices.all)
    func accumulation(device: Device) throws {
        let x = try Tensor([1, 2, 3], device: device).requiringGrad()
        // y = x·x + 3x, used twice (a diamond): d/dx Σ (y + y) = 2(2x + 3)
        let y = try x * x + x * 3
        try (y + y).sum().backward()
        try assertClose(x.grad!, [10, 14, 18])
        try (x * 2).sum().backward()
        try assertClose(x.grad!, [12, 16, 20])
        x.zeroGrad()
        #expect(x.grad == nil)
    }

    @Test("backward releases the graph as it goes; a second pass needs retainGraph", arguments: TestDevices.all)
    func releasedGraph(device: Device) throws {
        let x = try Tensor([1, 2, 3], device: device).requiringGrad()
        let tracker = BufferLeakTracker()
        // The chain's activations and records are freed by the pass though `loss` is still held.
        let loss = try tracker.track { try ((x * x).exp() * 2).sum() }
        #expect(tracker.liveBuffers > 1)
        try tracker.track { try loss.backward() }
        #expect(tracker.liveBuffers == 2, "only the loss and x's gradient stay alive, not \(tracker.liveBuffers) buffers")
        try assertClose(x.grad!, [1, 2, 3].map { 4 * $0 * Float(Foundation.exp(Double($0 * $0))) }, rtol: 1e-5)
        #expect(throws: CortadoError.self) { try loss.backward() }
        // A tensor of the released graph cannot start a new graph that backpropagates through it.
        #expect(throws: CortadoError.self) { try loss.square().backward() }

        x.zeroGrad()
        let y = try (x * x).sum()
        try y.backward(retainGraph: true)
        try y.backward()
        try assertClose(x.grad!, [4, 8, 12])
    }

    @Test("the graph keeps only what backward steps saved: an activation no step needs is freed in the forward pass",
          arguments: TestDevices.all)
    func unsavedActivationsFreed(device: Device) throws {
        let x = try Tensor([1, 2, 3], device: device).requiringGrad()
        let tracker = BufferLeakTracker()
        // Scaling saves nothing for its backward step and a sum only its input's shape, so the two
        // products are freed as soon as the next operation has read them: the loss alone stays.
        let loss = try tracker.track { try ((x * 3) * 2).sum() }
        #expect(tracker.liveBuffers == 1, "\(tracker.liveBuffers) buffers alive after the forward pass")
        try loss.backward()
        try assertClose(x.grad!, [6, 6, 6])
    }

    @Test("no-grad scopes and detached tensors record nothing", arguments: TestDevices.all)
    func noGrad(device: Device) throws {
        let x = try Tensor([1, 2], device: device).requiringGrad()
        let y = try withNoGrad { try x * 2 }
        #expect(!y.requiresGrad && y.isLeaf)
        #expect(!(try x.detached() * 2).requiresGrad)
        #expect(throws: CortadoError.self) { try y.sum().backward() }
        // Inside no-grad, gradient mode is off; outside, it is back on.
        #expect(withNoGrad { !GradMode.enabled })
        #expect(GradMode.enabled)
    }

    @Test("backward takes an explicit gradient for non-scalars and rejects a missing one", arguments: TestDevices.all)
    func explicitGradient(device: Device) throws {
        let x = try Tensor([1, 2, 3, 4], shape: [2, 2], device: device).requiringGrad()
        let y = try x.square()
        #expect(throws: CortadoError.self) { try y.backward() }
        try y.backward(gradient: Tensor([1, 0, 0, 1], shape: [2, 2], device: device))
        try assertClose(x.grad!, [2, 0, 0, 8])
        #expect(throws: CortadoError.self) { try y.backward(gradient: Tensor([1, 2], device: device)) }
    }

    @Test("a two-layer network's gradient matches finite differences", arguments: TestDevices.all)
    func composite(device: Device) throws {
        let x = Fixtures.values(12, seed: 71), w1 = Fixtures.values(20, seed: 72), b1 = Fixtures.values(5, seed: 73)
        let w2 = Fixtures.values(15, seed: 74)
        try checkGradients(on: device, [(x, [3, 4]), (w1, [4, 5]), (b1, [5]), (w2, [5, 3])], eps: 1e-3, "mlp") { t in
            let hidden = try (t[0].matmul(t[1]) + t[2]).tanh()
            return try hidden.matmul(t[3]).logSoftmax(axis: 1).mean(axes: [1])
        }
    }

    @Test("dropping a graph releases every device buffer", arguments: TestDevices.all)
    func graphReleasesBuffers(device: Device) throws {
        try expectNoLeaks("on \(device)") {
            let x = try Tensor(Fixtures.values(2 * 1 * 8 * 8, seed: 75), shape: [2, 1, 8, 8], device: device)
            let w = try Tensor.normal([4, 1, 3, 3], device: device).requiringGrad()
            let b = try Tensor.zeros([4], device: device).requiringGrad()
            let y = try x.conv2d(weight: w, bias: b, padding: 1).relu().maxPool2d(kernelSize: 2)
            let loss = try y.flattened(from: 1).softmax(axis: 1).sum()
            try loss.backward()
            _ = try w.grad!.toArray()
        }
    }
}
