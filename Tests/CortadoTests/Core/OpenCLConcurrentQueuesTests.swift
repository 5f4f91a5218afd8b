import Cortado
import Foundation
import Testing

/// Two backends on one OpenCL device: their own contexts and queues, running at once (with the
/// other OpenCL tests, the load under which PoCL once aborted; see `ProgramExportGate`).
@Suite("OpenCL backends sharing a device")
struct OpenCLConcurrentQueuesTests {
    @Test("two backends with the same kernels run them at once, at different grid sizes")
    func sameKernelsOnTwoQueues() async throws {
        let devices = [250, 251].map { Device(kind: .opencl, index: 0, profile: nil, instance: $0) }
        let sizes = [37, 1037, 4099, 65537, 300, 9000, 129, 20000]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (lane, device) in devices.enumerated() {
                group.addTask {
                    for round in 0..<60 {
                        var pending: [(Tensor, [Float])] = []
                        for step in 0..<8 {
                            let n = sizes[(round + step + lane * 3) % sizes.count]
                            let values = (0..<n).map { Float(($0 + step) % 17) - 8 }
                            let y = try (Tensor(values, device: device).relu() + 1) * 2
                            pending.append((y, values.map { (max($0, 0) + 1) * 2 }))
                        }
                        for (tensor, expected) in pending {
                            #expect(try tensor.toArray() == expected)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
