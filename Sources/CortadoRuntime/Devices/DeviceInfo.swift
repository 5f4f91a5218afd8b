/// What kind of hardware a device is.
public enum DeviceType: String, Sendable, Codable {
    case cpu, gpu, accelerator, other
}

/// A description of one device, as `cortado devices` prints it.
public struct DeviceInfo: Sendable, Codable, Equatable {
    /// The string that selects the device (`cpu`, `opencl:N`).
    public var id: String
    /// Other strings that select it (`gpu:N` for the N-th OpenCL GPU).
    public var aliases: [String]
    /// Which backend runs it.
    public var kind: Device.Kind
    /// CPU, GPU or accelerator.
    public var type: DeviceType
    /// The device's name (for the CPU, its core model).
    public var name: String
    /// The hardware vendor.
    public var vendor: String
    /// The OpenCL platform (`nil` for the CPU backend).
    public var platform: String?
    /// The OpenCL platform version.
    public var platformVersion: String?
    /// The OpenCL device version.
    public var deviceVersion: String?
    /// The driver version (for the CPU backend, the OpenBLAS build).
    public var driverVersion: String
    /// The OpenCL C language version.
    public var openCLCVersion: String?
    /// Compute units (for the CPU backend, the cores available to the process).
    public var computeUnits: Int
    /// Maximum clock frequency in MHz (0 when unknown).
    public var clockMHz: Int
    /// Global (device) memory in bytes.
    public var globalMemoryBytes: Int
    /// Local (work-group shared) memory in bytes.
    public var localMemoryBytes: Int?
    /// Largest single allocation in bytes.
    public var maxAllocationBytes: Int?
    /// Largest work-group size.
    public var maxWorkGroupSize: Int?
    /// Whether half-precision arithmetic (`cl_khr_fp16`) is supported.
    public var fp16: Bool
    /// Whether double-precision arithmetic is supported.
    public var fp64: Bool
    /// OpenBLAS threads (CPU backend only).
    public var blasThreads: Int?

    /// The JSON names (`cortado devices --json`), fixed here so they are a stable interface.
    enum CodingKeys: String, CodingKey {
        case id, aliases, kind, type, name, vendor, platform, fp16, fp64
        case platformVersion = "platform_version", deviceVersion = "device_version"
        case driverVersion = "driver_version", openCLCVersion = "opencl_c_version"
        case computeUnits = "compute_units", clockMHz = "clock_mhz"
        case globalMemoryBytes = "global_memory_bytes", localMemoryBytes = "local_memory_bytes"
        case maxAllocationBytes = "max_allocation_bytes", maxWorkGroupSize = "max_work_group_size"
        case blasThreads = "blas_threads"
    }

    /// The device this describes.
    public var device: Device {
        if kind == .cpu { return .cpu }
        let index = Int(id.split(separator: ":").last ?? "0") ?? 0
        return Device(kind: .opencl, index: index, profile: nil)
    }

    /// A one-line summary: `opencl:0  pthread-… (PoCL, cpu, 2 CU, 3.3 GiB)`.
    public var summary: String {
        let names = ([id] + aliases).joined(separator: ", ")
        let detail = [platform, type.rawValue, "\(computeUnits) CU", formatBytes(globalMemoryBytes)]
            .compactMap { $0 }.joined(separator: ", ")
        return "\(names)  \(name) (\(detail))"
    }
}
