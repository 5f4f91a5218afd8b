import Cortado
import Foundation
import Testing

/// Pinned host memory on OpenCL (``HostStaging``): the memory the gradient all-reduce reads its
/// buckets into, and the pooled blocks every upload is staged in.
@Suite("Host staging memory")
struct HostStagingTests {
    /// A fresh OpenCL backend (PoCL here), so its upload counters start at zero.
    private func freshBackend(_ instance: Int) throws -> OpenCLBackend {
        let device = Device(kind: .opencl, index: 0, profile: nil, instance: instance)
        return try OpenCLBackend(record: DeviceRegistry.shared.record(for: device), device: device)
    }

    @Test("OpenCL staging memory is pinned, and reads into it and writes from it move the exact bytes")
    func pinnedRoundTrip() throws {
        let backend = try freshBackend(330)
        let count = 300_001
        let staging = try backend.makeHostStaging(bytes: count * 4)
        #expect(staging.isPinned)
        #expect(Int(bitPattern: staging.bytes.baseAddress) % 64 == 0)
        let values = Fixtures.values(count, seed: 81)
        let floats = staging.floats(count)
        _ = floats.initialize(from: values)
        let buffer = try backend.allocator.allocate(count: count, dtype: .float32)
        try backend.write(UnsafeRawBufferPointer(staging.bytes), to: buffer, atByte: 0)
        floats.update(repeating: -1)  // the write took its own copy
        let back = try backend.makeHostStaging(bytes: count * 4)
        try backend.read(buffer, atByte: 0, into: back.bytes)
        #expect(Array(back.floats(count)) == values)
        // A part, at an offset, into ordinary memory.
        var part = [Float](repeating: 0, count: 1000)
        try part.withUnsafeMutableBytes { try backend.read(buffer, atByte: 4 * 5000, into: $0) }
        #expect(part == Array(values[5000..<6000]))
        #expect(try !DeviceRegistry.shared.backend(for: .cpu).makeHostStaging(bytes: 64).isPinned)
    }

    @Test("uploads in flight keep their staging blocks, and later uploads reuse them")
    func uploadsReuseBlocks() throws {
        let backend = try freshBackend(331)
        let sizes = [1, 3, 1000, 1025, 70_000, 262_144]  // elements: several size classes
        let buffers = try sizes.map { try backend.allocator.allocate(count: $0, dtype: .float32) }
        let rounds = 6, writesPerRound = 3 * sizes.count
        for round in 0..<rounds {
            // Eighteen queued writes without a wait: each must read its own staged bytes.
            var expected: [[Float]] = []
            for (index, size) in sizes.enumerated() {
                for repeatIndex in 0..<3 {
                    let values = Fixtures.values(size, seed: UInt64(100 * round + 10 * index + repeatIndex))
                    try values.withUnsafeBytes { try backend.write($0, to: buffers[index], atByte: 0) }
                    if repeatIndex == 2 { expected.append(values) }
                }
            }
            for (index, size) in sizes.enumerated() {
                var back = [Float](repeating: .nan, count: size)
                try back.withUnsafeMutableBytes { try backend.read(buffers[index], atByte: 0, into: $0) }
                #expect(back == expected[index], "round \(round), \(size) elements: the last write's values")
            }
            try backend.synchronize()
        }
        // At most one block per write in flight at once, not one per write.
        #expect(backend.stagingBlocksMade > 0)
        #expect(backend.stagingBlocksMade <= writesPerRound, "\(backend.stagingBlocksMade) blocks for \(rounds * writesPerRound) writes")
    }

    @Test("where the driver refuses pinned memory, ordinary memory stages the transfers")
    func refusedPinningFallsBack() throws {
        let backend = try freshBackend(332)
        try CLFaultInjection.withFaults("clEnqueueMapBuffer:-12") {  // CL_MAP_FAILURE
            let staging = try backend.makeHostStaging(bytes: 4096)
            #expect(!staging.isPinned)
            let values = Fixtures.values(5000, seed: 9)
            let buffer = try backend.allocator.allocate(count: values.count, dtype: .float32)
            try values.withUnsafeBytes { try backend.write($0, to: buffer, atByte: 0) }
            var back = [Float](repeating: 0, count: values.count)
            try back.withUnsafeMutableBytes { try backend.read(buffer, atByte: 0, into: $0) }
            #expect(back == values)
        }
    }
}
