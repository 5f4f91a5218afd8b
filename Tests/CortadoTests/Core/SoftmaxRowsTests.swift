import Foundation
import Testing
@testable import Cortado

/// Softmax along contiguous rows in every floating storage type, on OpenCL's row kernels with CPU
/// (one work-item per row) and GPU (many work-items per row) parameters, against double precision.
@Suite("Softmax rows in every storage type")
struct SoftmaxRowsTests {
    static let cases: [DTypeOnDevice] = [DType.float32, .float16, .bfloat16].flatMap { dtype in
        (TestDevices.openCLVariants + [.cpu]).map { DTypeOnDevice(dtype: dtype, device: $0) }
    }

    /// Softmax or log-softmax of each row and its input gradient for `dy`, in double precision.
    static func reference(_ x: [Float], _ dy: [Float], width: Int, log: Bool) -> (y: [Float], dx: [Float]) {
        var y = [Float](repeating: 0, count: x.count), dx = y
        for start in stride(from: 0, to: x.count, by: width) {
            let row = (start..<start + width).map { Double(x[$0]) }
            let m = row.max()!
            let total = row.reduce(0) { $0 + Foundation.exp($1 - m) }
            let p = row.map { Foundation.exp($0 - m) / total }
            let g = (start..<start + width).map { Double(dy[$0]) }
            let sum = log ? g.reduce(0, +) : zip(g, p).reduce(0) { $0 + $1.0 * $1.1 }
            for j in 0..<width {
                y[start + j] = Float(log ? row[j] - m - Foundation.log(total) : p[j])
                dx[start + j] = Float(log ? g[j] - p[j] * sum : p[j] * (g[j] - sum))
            }
        }
        return (y, dx)
    }

    @Test("forward and backward match double precision at short and long rows", arguments: cases)
    func matchesReference(_ c: DTypeOnDevice) throws {
        let tolerance: (rtol: Float, atol: Float) = switch c.dtype {
        case .float16: (4e-3, 2e-3)
        case .bfloat16: (3e-2, 1.5e-2)
        default: (1e-5, 1e-6)
        }
        // 3 and 37: several rows per work-group; 1000: longer than a GPU work-group. 24, 64 and
        // 1000 are whole 16-byte vectors of every type (GPU builds' vector kernels), 3 and 37 not.
        for (rows, width) in [(70, 3), (9, 37), (5, 1000), (11, 24), (6, 64)] {
            for log in [false, true] {
                // Inputs and gradients exact in the storage type, so only the op's rounding is judged.
                let x = try Tensor(Fixtures.values(rows * width, seed: UInt64(600 + width), low: -4, high: 4), shape: [rows, width])
                    .to(dtype: c.dtype)
                let dy = try Tensor(Fixtures.values(rows * width, seed: UInt64(700 + width)), shape: [rows, width]).to(dtype: c.dtype)
                let expected = Self.reference(try x.toArray(), try dy.toArray(), width: width, log: log)
                let input = try x.to(c.device).requiringGrad()
                let y = try log ? input.logSoftmax(axis: 1) : input.softmax(axis: 1)
                #expect(y.dtype == c.dtype)
                try y.backward(gradient: dy.to(c.device))
                let label = "\(log ? "log-" : "")softmax \(rows)×\(width) \(c)"
                assertClose(try y.toArray(), expected.y, rtol: tolerance.rtol, atol: tolerance.atol, label)
                assertClose(try input.grad!.toArray(), expected.dx, rtol: tolerance.rtol, atol: tolerance.atol, "d \(label)")
            }
        }
    }

    @Test("the row kernels give the same bits on every run", arguments: TestDevices.openCLVariants)
    func deterministic(device: Device) throws {
        let x = try Tensor(Fixtures.values(6 * 700, seed: 611, low: -5, high: 5), shape: [6, 700], device: device)
        let first = try x.softmax(axis: 1).toArray(), second = try x.softmax(axis: 1).toArray()
        #expect(first == second)
    }

    @Test("a refused row work-group is refitted smaller and gives the same result")
    func refitsRefusedWorkGroup() throws {
        // A fresh device with GPU parameters, so its table can shrink without touching other tests'.
        // Rows of 700 floats are whole 16-byte vectors: the vector row kernel.
        let device = Device(kind: .opencl, index: 0, profile: .gpu, instance: 611)
        let x = try Tensor(Fixtures.values(6 * 700, seed: 612, low: -5, high: 5), shape: [6, 700], device: device)
        let expected = try x.softmax(axis: 1).toArray()
        let backend = try #require(try DeviceRegistry.shared.backend(for: device).unwrapped as? OpenCLBackend)
        let before = backend.parameters.normalization.workGroup
        let got = try CLFaultInjection.withFaults("clEnqueueNDRangeKernel@softmax_rows_forward_vector:CL_INVALID_WORK_GROUP_SIZE*1") {
            try x.softmax(axis: 1).toArray()
        }
        #expect(backend.parameters.normalization.workGroup < before)
        assertClose(got, expected, rtol: 1e-6, atol: 1e-7, "refitted softmax rows")
    }
}
