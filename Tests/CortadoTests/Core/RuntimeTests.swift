import Cortado
import Foundation
import Testing

@Suite("Runtime: allocator, program cache, parameters")
struct RuntimeTests {
    @Test("size classes cover the request with at most 25 % slack")
    func sizeClasses() {
        var previous = 0
        for bytes in [1, 255, 256, 257, 1000, 4096, 4097, 100_000, 1 << 20, (1 << 20) + 1, 123_456_789] {
            let size = CachingAllocator.sizeClass(bytes)
            #expect(size >= bytes && size >= previous)
            #expect(bytes <= 256 || Double(size) <= Double(bytes) * 1.25 + 1)
            previous = size
        }
    }

    /// A private backend per test, so parallel tests do not disturb the counters.
    static let isolated: [Device] = [
        Device(kind: .cpu, index: 0, profile: nil, instance: 1),
        Device(kind: .opencl, index: 0, profile: nil, instance: 1),
        Device(kind: .opencl, index: 0, profile: .gpu, instance: 1),
    ]

    @Test("a steady training step allocates no new device memory", arguments: isolated)
    func steadyStateReusesBuffers(device: Device) throws {
        let w = try Tensor.normal([64, 32], std: 0.1, device: device).requiringGrad()
        let x = try Tensor(Fixtures.values(16 * 64, seed: 81), shape: [16, 64], device: device)
        func step() throws {
            let loss = try x.matmul(w).relu().logSoftmax(axis: 1).mean()
            try loss.backward()
            try withNoGrad { _ = try loss.item() }
            w.zeroGrad()
        }
        try step()
        try step()
        let before = try device.memoryStatistics
        for _ in 0..<3 { try step() }
        let after = try device.memoryStatistics
        #expect(after.deviceAllocations == before.deviceAllocations, "\(before) → \(after)")
        #expect(after.cacheHits > before.cacheHits)
        #expect(after.liveBuffers == before.liveBuffers)
    }

    @Test("a free buffer up to four size classes larger is reused; a much larger one is not")
    func reusesSlightlyLargerBuffers() throws {
        let device = Device(kind: .cpu, index: 0, profile: nil, instance: 2)
        func allocate(_ floats: Int) throws { _ = try Tensor.zeros([floats], device: device) }
        try allocate(25_000)  // 100 kB, then cached
        let before = try device.memoryStatistics
        try allocate(18_000)  // 72 kB: two classes below, takes the cached 100 kB buffer
        let reused = try device.memoryStatistics
        #expect(reused.deviceAllocations == before.deviceAllocations && reused.cacheHits == before.cacheHits + 1,
                "\(before) → \(reused)")
        try allocate(1_000)  // 4 kB: far smaller, gets its own buffer
        let fresh = try device.memoryStatistics
        #expect(fresh.deviceAllocations == reused.deviceAllocations + 1, "\(reused) → \(fresh)")
    }

    @Test("out-of-memory is an error that says so and suggests a smaller batch", arguments: TestDevices.all)
    func outOfMemory(device: Device) throws {
        do {
            _ = try Tensor.zeros([1 << 40], device: device)
            Issue.record("a 4 TiB tensor was allocated on \(device)")
        } catch let error as CortadoError {
            guard case .outOfDeviceMemory = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(error.description.contains("out of device memory"))
            #expect(error.description.contains("smaller batch"))
        }
    }

    @Test("with the GPU table, compiled programs are cached on disk and a new backend compiles nothing")
    func programCache() throws {
        // The GPU table caches binaries (the CPU table leaves that to the driver's cache; see below).
        let first = Device(kind: .opencl, index: 0, profile: .gpu, instance: 2)
        let second = Device(kind: .opencl, index: 0, profile: .gpu, instance: 3)
        _ = try (Tensor([1, 2, 3], device: first) + 1).toArray()
        _ = try (Tensor([1, 2, 3], device: second) + 1).toArray()
        let stats = try second.compileStatistics
        #expect(stats.compiledFromSource == 0, "\(stats)")
        #expect(stats.loadedFromCache >= 1, "\(stats)")
        let files = try FileManager.default.contentsOfDirectory(
            at: CacheDirectory.url.appendingPathComponent("kernels"), includingPropertiesForKeys: nil)
        #expect(files.contains { $0.lastPathComponent.hasPrefix("elementwise-") && $0.pathExtension == "bin" })
    }

    @Test("the CPU-type table does not export binaries (PoCL would recompile every kernel to do so)")
    func cpuTypeSkipsBinaryCache() throws {
        #expect(!KernelParameters.defaults(for: .cpu).cacheProgramBinaries)
        #expect(KernelParameters.defaults(for: .gpu).cacheProgramBinaries)
        let device = Device(kind: .opencl, index: 0, profile: .cpu, instance: 4)
        _ = try (Tensor([1, 2, 3], device: device) * 2).toArray()
        #expect(try device.compileStatistics.loadedFromCache == 0)
    }

    @Test("parameter tables validate their tiles")
    func parameterValidation() throws {
        for profile in KernelProfile.allCases {
            try KernelParameters.defaults(for: profile).gemm.validate()
        }
        var bad = KernelParameters.defaults(for: .gpu).gemm
        bad.tileM = 60
        #expect(throws: CortadoError.self) { try bad.validate() }
        var badWidth = KernelParameters.defaults(for: .cpu).gemm
        badWidth.vectorWidth = 3
        #expect(throws: CortadoError.self) { try badWidth.validate() }
    }
}

@Suite("Kernel build failures")
struct KernelBuildFailureTests {
    @Test("a kernel that fails to compile is an error carrying the compiler's build log")
    func buildLog() throws {
        let backend = try #require(try DeviceRegistry.shared.backend(for: TestDevices.openCL).unwrapped as? OpenCLBackend)
        do {
            try backend.buildProgram(named: "broken", source: "__kernel void broken(__global float* x) { x[0] = undeclared; }")
            Issue.record("a broken kernel built")
        } catch let error as CortadoError {
            guard case let .kernelBuild(program, _, log) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(program == "broken")
            #expect(log.contains("undeclared"), "build log: \(log)")
        }
    }
}

@Suite("Tuned parameters")
struct TunedParameterTests {
    @Test("a stored tuned table is picked up by a new backend; one for another driver is ignored")
    func storedTableIsUsed() throws {
        let directory = try TemporaryDirectory()
        let store = TunedParameterStore(directory: directory.url)
        let device = Device(kind: .opencl, index: 0, profile: nil, instance: 20)
        let record = try DeviceRegistry.shared.record(for: device)
        var tuned = KernelParameters.defaults(for: .cpu)
        tuned.gemm.tileM = 8
        tuned.gemm.groupM = 4
        tuned.elementwiseWorkGroup = 128
        let entry = TunedParameterStore.Entry(
            device: record.info.name, driver: record.info.driverVersion, platform: record.info.platform ?? "",
            parameters: tuned, defaultScore: 1, tunedScore: 2, date: "2026-11-22T00:00:00Z")
        try store.save(entry, for: record.info)

        let backend = try OpenCLBackend(record: record, device: device, store: store)
        #expect(backend.parameters == tuned)
        // The tuned table computes correctly.
        let verified = try KernelTuner.verify(backend)
        #expect(verified)

        var stale = entry
        stale.driver = "some other driver"
        try store.save(stale, for: record.info)
        let fallback = try OpenCLBackend(record: record, device: Device(kind: .opencl, index: 0, profile: nil, instance: 21), store: store)
        #expect(fallback.parameters == KernelParameters.defaults(for: KernelProfile(for: record.info.type)))
        // A forced profile ignores tuned tables.
        try store.save(entry, for: record.info)
        let forced = try OpenCLBackend(record: record, device: Device(kind: .opencl, index: 0, profile: .gpu, instance: 22), store: store)
        #expect(forced.parameters == KernelParameters.defaults(for: .gpu))
    }
}
