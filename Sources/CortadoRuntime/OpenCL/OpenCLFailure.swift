import COpenCL

/// A failed OpenCL call, with what the user needs to act on it: the call, the kernel and launch
/// size, the device, its driver and limits, and advice for the status.
public struct OpenCLFailure: Sendable, Equatable, CustomStringConvertible {
    /// The OpenCL function (`clEnqueueNDRangeKernel`).
    public var call: String
    /// The status it returned (negative).
    public var code: Int32
    /// The kernel (launches) or program (builds), when the call concerns one.
    public var kernel: String?
    /// The launch's global size, for kernel launches.
    public var globalSize: [Int]?
    /// The launch's work-group size, for kernel launches (`nil`: the driver chose).
    public var localSize: [Int]?
    /// The bytes moved or allocated, for transfers and allocations.
    public var bytes: Int?
    /// The device (`opencl:0 (NVIDIA A100)`).
    public var device: String
    /// The driver version.
    public var driver: String
    /// The device's limits that bear on launches and allocations.
    public var limits: String

    /// A failure of `call` on the device described by `info`; the status is filled in by the check.
    init(_ call: String, kernel: String? = nil, global: [Int]? = nil, local: [Int]? = nil, bytes: Int? = nil,
         device: Device, info: DeviceInfo, code: Int32 = 0) {
        self.call = call
        self.code = code
        self.kernel = kernel
        self.globalSize = global
        self.localSize = local
        self.bytes = bytes
        self.device = "\(device.id) (\(info.name))"
        self.driver = info.driverVersion
        self.limits = Self.limits(of: info)
    }

    /// The status's symbolic name (`CL_INVALID_WORK_GROUP_SIZE`).
    public var codeName: String { openCLErrorName(code) }

    /// `max work-group 1024, local memory 48.0 KiB, max allocation 10.0 GiB, global memory 40.0 GiB`.
    static func limits(of info: DeviceInfo) -> String {
        var parts: [String] = []
        if let size = info.maxWorkGroupSize { parts.append("max work-group \(size)") }
        if let bytes = info.localMemoryBytes { parts.append("local memory \(formatBytes(bytes))") }
        if let bytes = info.maxAllocationBytes { parts.append("max allocation \(formatBytes(bytes))") }
        parts.append("global memory \(formatBytes(info.globalMemoryBytes))")
        return parts.joined(separator: ", ")
    }

    /// The call with its kernel and launch size: `clEnqueueNDRangeKernel(softmax_forward, global [64], local [256])`.
    public var callDescription: String {
        var details: [String] = []
        if let kernel { details.append(kernel) }
        if let globalSize { details.append("global \(globalSize)") }
        if globalSize != nil { details.append(localSize.map { "local \($0)" } ?? "local chosen by the driver") }
        if let bytes { details.append(formatBytes(bytes)) }
        return details.isEmpty ? call : "\(call)(\(details.joined(separator: ", ")))"
    }

    /// One line: the call, the status, the device and its limits.
    public var summary: String {
        "\(callDescription) returned \(codeName) (\(code)) on \(device), driver \(driver); device limits: \(limits)"
    }

    /// What to do about the status.
    public var advice: String { Self.advice(for: code) }

    /// What to do about `code`.
    public static func advice(for code: Int32) -> String {
        switch code {
        case CL_OUT_OF_RESOURCES, CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_HOST_MEMORY, CL_INVALID_BUFFER_SIZE:
            return "the device ran out of memory or resources for this work: use a smaller batch (--batch-size), "
                + "or 16-bit storage (--precision bf16) to halve the activations' memory; `cortado devices` shows "
                + "the device's memory. If it happens at small sizes too, the kernel may have faulted: run "
                + "`cortado check --device <device>`."
        case CL_INVALID_WORK_GROUP_SIZE, CL_INVALID_WORK_ITEM_SIZE, CL_INVALID_GLOBAL_WORK_SIZE:
            return "the device refused the kernel's work-group size (its limits are above). Cortado ignores a tuned "
                + "table that exceeds the device's limits and uses the built-in defaults, lets the driver choose "
                + "the size of kernels that allow it, and rebuilds kernels built for a fixed size with smaller ones; "
                + "this one could not shrink further. Remove the tuned table (~/.config/cortado/tuned) or run "
                + "`cortado tune` again, and report the kernel and limits if it persists."
        case CL_BUILD_PROGRAM_FAILURE, CL_COMPILER_NOT_AVAILABLE, CL_INVALID_BUILD_OPTIONS:
            return "the driver could not compile Cortado's kernels: update the OpenCL driver, or report the build log "
                + "with the device and driver above; use --device cpu meanwhile."
        case CL_DEVICE_NOT_AVAILABLE, CL_DEVICE_NOT_FOUND, CL_INVALID_COMMAND_QUEUE, CL_INVALID_CONTEXT,
             CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, -9999:
            return "the device was lost (a driver reset, a GPU removed or hung, or an earlier kernel that faulted): "
                + "check that `cortado devices` still lists it and the system log (dmesg), then restart the run "
                + "(from its last checkpoint with --resume); use --device cpu meanwhile."
        default:
            return "an unexpected OpenCL error: run `cortado check --device <device>` to see whether the device "
                + "computes correctly, and report this message."
        }
    }

    /// The summary and the advice.
    public var description: String {
        "OpenCL call \(summary)\nadvice: \(advice)"
    }
}
