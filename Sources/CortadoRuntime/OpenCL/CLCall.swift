import COpenCL

/// Throws unless `status` is `CL_SUCCESS`: allocation failures (`CL_MEM_OBJECT_ALLOCATION_FAILURE`,
/// `CL_OUT_OF_RESOURCES`, `CL_OUT_OF_HOST_MEMORY`, `CL_INVALID_BUFFER_SIZE`) of a call that moves or
/// allocates `bytes` become ``CortadoError/outOfDeviceMemory(device:bytes:detail:)``; everything else
/// ``CortadoError/openCL(_:)`` with the call, the kernel, the launch size, the device's limits and
/// advice (see ``OpenCLFailure``).
func clCheck(_ status: cl_int, _ failure: @autoclosure () -> OpenCLFailure) throws {
    guard status != CL_SUCCESS else { return }
    var failure = failure()
    failure.code = status
    if failure.localSize == nil, failure.globalSize == nil, failure.bytes != nil,
       status == CL_MEM_OBJECT_ALLOCATION_FAILURE || status == CL_OUT_OF_RESOURCES
        || status == CL_OUT_OF_HOST_MEMORY || status == CL_INVALID_BUFFER_SIZE
    {
        // The summary names the device in full; the message starts with its id only.
        let id = failure.device.prefix { $0 != " " }
        throw CortadoError.outOfDeviceMemory(device: String(id), bytes: failure.bytes ?? 0, detail: failure.summary)
    }
    throw CortadoError.openCL(failure)
}

/// The OpenCL status codes by name.
let openCLErrorNames: [Int32: String] = [
    0: "CL_SUCCESS", -1: "CL_DEVICE_NOT_FOUND", -2: "CL_DEVICE_NOT_AVAILABLE",
    -3: "CL_COMPILER_NOT_AVAILABLE", -4: "CL_MEM_OBJECT_ALLOCATION_FAILURE",
    -5: "CL_OUT_OF_RESOURCES", -6: "CL_OUT_OF_HOST_MEMORY",
    -7: "CL_PROFILING_INFO_NOT_AVAILABLE", -11: "CL_BUILD_PROGRAM_FAILURE",
    -14: "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
    -30: "CL_INVALID_VALUE", -33: "CL_INVALID_DEVICE", -34: "CL_INVALID_CONTEXT",
    -36: "CL_INVALID_COMMAND_QUEUE", -38: "CL_INVALID_MEM_OBJECT", -42: "CL_INVALID_BINARY",
    -43: "CL_INVALID_BUILD_OPTIONS", -44: "CL_INVALID_PROGRAM",
    -45: "CL_INVALID_PROGRAM_EXECUTABLE", -46: "CL_INVALID_KERNEL_NAME",
    -48: "CL_INVALID_KERNEL", -49: "CL_INVALID_ARG_INDEX", -50: "CL_INVALID_ARG_VALUE",
    -51: "CL_INVALID_ARG_SIZE", -52: "CL_INVALID_KERNEL_ARGS",
    -53: "CL_INVALID_WORK_DIMENSION", -54: "CL_INVALID_WORK_GROUP_SIZE",
    -55: "CL_INVALID_WORK_ITEM_SIZE", -56: "CL_INVALID_GLOBAL_OFFSET",
    -58: "CL_INVALID_EVENT", -61: "CL_INVALID_BUFFER_SIZE", -63: "CL_INVALID_GLOBAL_WORK_SIZE",
    -1001: "CL_PLATFORM_NOT_FOUND_KHR",
]

/// The symbolic name of an OpenCL status code.
func openCLErrorName(_ code: Int32) -> String {
    openCLErrorNames[code] ?? "OpenCL error"
}

/// The status code of a symbolic name (`CL_INVALID_WORK_GROUP_SIZE` → -54).
func openCLErrorCode(named name: String) -> Int32? {
    openCLErrorNames.first { $0.value == name }?.key
}

/// Reads a string-valued property through an OpenCL `clGet…Info` function.
func clInfoString(_ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int) -> String {
    var size = 0
    guard query(0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
    var bytes = [CChar](repeating: 0, count: size + 1)
    guard bytes.withUnsafeMutableBytes({ query(size, $0.baseAddress, nil) }) == CL_SUCCESS else { return "" }
    let utf8 = bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: utf8, as: UTF8.self).trimmingWhitespace()
}

/// Reads a fixed-size property through an OpenCL `clGet…Info` function (zero when the query fails).
func clInfoValue<T: FixedWidthInteger>(
    _ type: T.Type, _ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
) -> T {
    var value: T = 0
    _ = withUnsafeMutableBytes(of: &value) { query(MemoryLayout<T>.size, $0.baseAddress, nil) }
    return value
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }),
              let last = lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(self[first...last])
    }
}
