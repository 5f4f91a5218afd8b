/// A compute device: the CPU (OpenBLAS and vectorised loops) or one OpenCL device.
///
/// Devices are named by one string everywhere (the `--device` flag, `CORTADO_DEVICE`, this API):
/// `cpu`; `gpu` / `gpu:N` (the N-th OpenCL GPU); `opencl` / `opencl:N` (the N-th OpenCL device of any
/// type); `auto` (the first OpenCL GPU, else `cpu`; `cortado train` instead measures every device
/// on the model, see CortadoTraining's `DeviceProbe`), and `auto:fresh`, the same here.
/// ``Device/init(_:)`` resolves a string to the canonical device, whose ``id`` is `cpu` or `opencl:N`.
public struct Device: Hashable, Sendable, CustomStringConvertible {
    /// Which backend runs the device's operations.
    public enum Kind: String, Sendable, Codable {
        /// The host CPU: OpenBLAS for GEMM, vectorised multi-threaded Swift loops for the rest.
        case cpu
        /// An OpenCL device (a GPU, an accelerator, or a CPU OpenCL such as PoCL).
        case opencl
    }

    /// The backend kind.
    public let kind: Kind
    /// For OpenCL devices, the index among all OpenCL devices of all platforms; 0 for the CPU.
    public let index: Int
    /// A named kernel-parameter profile that replaces the device's own (tests use it to run the GPU
    /// kernels on a CPU OpenCL device); `nil` for the device's own parameters.
    package let profile: KernelProfile?
    /// Distinguishes separate backends of the same hardware (0 for the shared one). Tests use their
    /// own instances to count allocations without interference from tests running in parallel.
    package let instance: Int

    /// The host CPU.
    public static let cpu = Device(kind: .cpu, index: 0, profile: nil)

    package init(kind: Kind, index: Int, profile: KernelProfile?, instance: Int = 0) {
        self.kind = kind
        self.index = index
        self.profile = profile
        self.instance = instance
    }

    /// The OpenCL device with the given index (checked against the devices present).
    public static func opencl(_ index: Int) throws -> Device {
        try Device("opencl:\(index)")
    }

    /// Resolves a device string (`cpu`, `gpu[:N]`, `opencl[:N]`, `auto`).
    /// - Throws: ``CortadoError/unknownDevice(spec:reason:available:)`` listing the devices that exist.
    public init(_ spec: String) throws {
        self = try DeviceRegistry.shared.resolve(spec).device
    }

    /// The canonical string that selects this device: `cpu` or `opencl:N`.
    public var id: String {
        switch kind {
        case .cpu: return "cpu"
        case .opencl: return profile.map { "opencl:\(index)[\($0.rawValue) kernels]" } ?? "opencl:\(index)"
        }
    }

    /// The device's id.
    public var description: String { id }

    /// What the device is: name, vendor, type, memory and so on.
    public var info: DeviceInfo {
        get throws { try DeviceRegistry.shared.info(for: self) }
    }

    /// Every device on this machine: `cpu` first, then each OpenCL device in platform order.
    public static var all: [DeviceInfo] { DeviceRegistry.shared.allDevices }

    /// Blocks until every operation queued on the device has finished.
    public func synchronize() throws {
        try DeviceRegistry.shared.backend(for: self).synchronize()
    }

    /// Live and cached buffers of the device's caching allocator.
    public var memoryStatistics: MemoryStatistics {
        get throws { try DeviceRegistry.shared.backend(for: self).allocator.statistics }
    }

    /// How much kernel compilation this process has done for the device (zero for the CPU).
    public var compileStatistics: CompileStatistics {
        get throws { try DeviceRegistry.shared.compileStatistics(for: self) }
    }

    /// Starts a new measurement of ``MemoryStatistics/peakLiveBytes`` from the bytes live now.
    public func resetPeakMemory() throws {
        try DeviceRegistry.shared.backend(for: self).allocator.resetPeak()
    }

    /// Frees the device memory that the caching allocator holds for reuse.
    public func emptyCache() throws {
        try DeviceRegistry.shared.backend(for: self).allocator.emptyCache()
    }
}

/// How a device string was resolved: the device and, for `auto`, a one-line explanation.
public struct DeviceResolution: Sendable {
    /// The device selected.
    public let device: Device
    /// For `auto`, what was chosen and why (`auto: no OpenCL GPU found, using cpu`); `nil` otherwise.
    public let notice: String?
}

extension Device {
    /// Resolves a device string and says, for `auto`, what was picked and why (the CLI prints it).
    public static func resolve(_ spec: String) throws -> DeviceResolution {
        try DeviceRegistry.shared.resolve(spec)
    }
}
