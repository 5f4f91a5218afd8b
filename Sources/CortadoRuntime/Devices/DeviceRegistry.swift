import Synchronization

/// Finds the devices of this machine once, resolves device strings, and owns one backend per device.
package final class DeviceRegistry: Sendable {
    /// The process-wide registry.
    package static let shared = DeviceRegistry()

    let openCLDevices: [OpenCLDeviceRecord]
    let cpuInfo: DeviceInfo
    private let backends = Mutex<[Device: any Backend]>([:])

    private init() {
        cpuInfo = CPUDescription.info()
        openCLDevices = OpenCLDiscovery.devices()
    }

    /// `cpu` and every OpenCL device.
    package var allDevices: [DeviceInfo] { [cpuInfo] + openCLDevices.map(\.info) }

    /// Resolves a device string; see ``Device``.
    package func resolve(_ rawSpec: String) throws -> DeviceResolution {
        var spec = rawSpec.trimmingWhitespace().lowercased()
        // `auto:fresh` measures again where `auto` measures (training); elsewhere it is `auto`.
        if spec == "auto:fresh" { spec = "auto" }
        let (name, number) = Self.split(spec)
        let gpus = openCLDevices.filter { $0.info.type == .gpu }
        func fail(_ reason: String) -> CortadoError {
            .unknownDevice(spec: rawSpec, reason: reason, available: allDevices.map(\.summary))
        }
        switch (name, number) {
        case ("cpu", nil), ("cpu", 0):
            return DeviceResolution(device: .cpu, notice: nil)
        case ("auto", nil):
            if let gpu = gpus.first {
                return DeviceResolution(
                    device: gpu.info.device, notice: "auto: using \(gpu.info.id) (\(gpu.info.name))")
            }
            return DeviceResolution(device: .cpu, notice: "auto: no OpenCL GPU found, using cpu")
        case ("gpu", let n):
            let n = n ?? 0
            guard n < gpus.count else {
                throw fail(gpus.isEmpty
                    ? "this machine has no OpenCL GPU"
                    : "there are \(gpus.count) OpenCL GPUs (gpu:0…gpu:\(gpus.count - 1))")
            }
            return DeviceResolution(device: gpus[n].info.device, notice: nil)
        case ("opencl", let n):
            let n = n ?? 0
            guard n < openCLDevices.count else {
                throw fail(openCLDevices.isEmpty
                    ? "no OpenCL platform or device is installed"
                    : "there are \(openCLDevices.count) OpenCL devices (opencl:0…opencl:\(openCLDevices.count - 1))")
            }
            return DeviceResolution(device: openCLDevices[n].info.device, notice: nil)
        default:
            throw fail("expected cpu, gpu[:N], opencl[:N] or auto")
        }
    }

    private static func split(_ spec: String) -> (String, Int?) {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return (spec, nil) }
        guard let number = Int(parts[1]), number >= 0 else { return (spec, -1) }
        return (String(parts[0]), number)
    }

    /// The description of `device`.
    package func info(for device: Device) throws -> DeviceInfo {
        switch device.kind {
        case .cpu: return cpuInfo
        case .opencl: return try record(for: device).info
        }
    }

    package func record(for device: Device) throws -> OpenCLDeviceRecord {
        guard device.kind == .opencl, device.index < openCLDevices.count else {
            throw CortadoError.unknownDevice(
                spec: device.id, reason: "no such OpenCL device", available: allDevices.map(\.summary))
        }
        return openCLDevices[device.index]
    }

    /// The backend running `device`, created on first use.
    package func backend(for device: Device) throws -> any Backend {
        if let backend = backends.withLock({ $0[device] }) { return backend }
        var backend: any Backend
        switch device.kind {
        case .cpu:
            backend = CPUBackend(device: device)
        case .opencl:
            backend = try OpenCLBackend(record: record(for: device), device: device)
        }
        // Tensors over the device's allocation cap are stored in segments, taken apart in front of it.
        backend = SegmentingBackend(backend)
        if OperationProfiling.recordsOperations { backend = ProfilingBackend(backend) }
        return backends.withLock { backends in
            if let existing = backends[device] { return existing }
            backends[device] = backend
            return backend
        }
    }
}

extension DeviceRegistry {
    /// How much kernel compilation `device` has done (zero for the CPU backend).
    package func compileStatistics(for device: Device) throws -> CompileStatistics {
        (try backend(for: device).unwrapped as? OpenCLBackend)?.compileStatistics ?? CompileStatistics()
    }
}

extension Device {
    /// Runs `body`, waits for the device, and returns the device-side time of each OpenCL kernel it
    /// launched (kernel name and seconds, in launch order); empty for the CPU, whose operations
    /// finish before returning, and for an OpenCL device first used before
    /// ``OperationProfiling/enableEventProfiling()``.
    public func profileKernels(_ body: () throws -> Void) throws -> [(kernel: String, seconds: Double)] {
        guard let backend = try DeviceRegistry.shared.backend(for: self).unwrapped as? OpenCLBackend else {
            try body()
            return []
        }
        return try backend.profileKernels(body)
    }
}

extension Backend {
    /// The backend doing the work: itself, or the one a ``ProfilingBackend`` and a
    /// ``SegmentingBackend`` forward to.
    package var unwrapped: any Backend {
        let inner = (self as? ProfilingBackend)?.base ?? self
        return (inner as? SegmentingBackend)?.base ?? inner
    }
}
