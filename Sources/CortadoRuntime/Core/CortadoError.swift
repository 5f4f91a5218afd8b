import Foundation

/// Every error Cortado reports: user mistakes and device failures are thrown, never trapped.
public enum CortadoError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// A device string that names no device on this machine; `available` lists the devices that exist.
    case unknownDevice(spec: String, reason: String, available: [String])
    /// An operation combined tensors that live on different devices.
    case deviceMismatch(op: String, devices: [String])
    /// Shapes that an operation cannot combine (the message names the op and the shapes).
    case shapeMismatch(String)
    /// An argument outside what an operation accepts.
    case invalidArgument(String)
    /// An element type the operation does not support on a device; `supported` lists the types it does.
    case unsupportedDType(op: String, dtype: DType, device: String, supported: [DType])
    /// An operation combined tensors of different element types (`dtypes`) that it does not mix.
    case dtypeMismatch(op: String, dtypes: [DType])
    /// The device ran out of memory while allocating `bytes`.
    case outOfDeviceMemory(device: String, bytes: Int, detail: String)
    /// An operation met a tensor of `bytes` stored in several buffers (it exceeds the device's
    /// largest single allocation, `cap`) and cannot take it apart; `detail` says why.
    case segmentedOperand(op: String, bytes: Int, device: String, cap: Int, detail: String)
    /// An OpenCL call failed: the call, kernel, launch size, device limits and advice.
    case openCL(OpenCLFailure)
    /// An OpenCL program failed to compile on `device` (its name and driver); `log` is the
    /// compiler's build log.
    case kernelBuild(program: String, device: String, log: String)
    /// A file could not be read or written (the message names the file and the problem).
    case io(String)

    /// The message, for code that reads `localizedDescription`.
    public var errorDescription: String? { description }

    /// A one-paragraph message for the user.
    public var description: String {
        switch self {
        case let .unknownDevice(spec, reason, available):
            let list = available.map { "  \($0)" }.joined(separator: "\n")
            return "unknown device '\(spec)': \(reason)\navailable devices:\n\(list)"
        case let .deviceMismatch(op, devices):
            return "\(op): tensors are on different devices (\(devices.joined(separator: ", "))); "
                + "move them with .to(device) first"
        case let .shapeMismatch(message):
            return "shape mismatch: \(message)"
        case let .invalidArgument(message):
            return "invalid argument: \(message)"
        case let .unsupportedDType(op, dtype, device, supported):
            let list = supported.isEmpty ? "none" : supported.map(\.rawValue).joined(separator: ", ")
            return "\(op) does not support element type \(dtype) on \(device) (supported there: \(list)); "
                + "convert with .to(dtype:) first"
        case let .dtypeMismatch(op, dtypes):
            return "\(op): tensors have different element types (\(dtypes.map(\.rawValue).joined(separator: ", "))); "
                + "convert one with .to(dtype:) first"
        case let .outOfDeviceMemory(device, bytes, detail):
            return "out of device memory on \(device) while allocating \(formatBytes(bytes))"
                + (detail.isEmpty ? "" : " (\(detail))")
                + "; try a smaller batch size, or 16-bit storage (--precision bf16) to halve the activations' memory"
        case let .segmentedOperand(op, bytes, device, cap, detail):
            return "\(op) cannot take a tensor of \(formatBytes(bytes)) on \(device): it exceeds the device's largest "
                + "single allocation (\(formatBytes(cap))) and is stored in several buffers"
                + (detail.isEmpty ? "" : " (\(detail))")
                + "; such tensors support reads and writes, fill, copy, random draws, elementwise ops, the optimizer "
                + "updates, embedding gathers and scatter-adds, and matrix products split along rows; "
                + "use a smaller tensor for \(op), or a device with a larger cap (`cortado devices` shows it)"
        case let .openCL(failure):
            return failure.description
        case let .kernelBuild(program, device, log):
            return "OpenCL program '\(program)' failed to build on \(device):\n\(log)\nadvice: "
                + OpenCLFailure.advice(for: -11)  // CL_BUILD_PROGRAM_FAILURE
        case let .io(message):
            return message
        }
    }
}

/// Formats a byte count with a binary unit, e.g. `1.5 MiB`.
public func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}
