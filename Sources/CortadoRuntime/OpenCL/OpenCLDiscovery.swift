import COpenCL

/// An OpenCL device found at start-up, with its platform and its description.
package struct OpenCLDeviceRecord: @unchecked Sendable {
    let platform: cl_platform_id
    let deviceID: cl_device_id
    /// What the device is.
    package let info: DeviceInfo

    /// The same device described by `info`: tests simulate a device with other limits (a smaller
    /// work-group) on the real one.
    package func describing(_ info: DeviceInfo) -> OpenCLDeviceRecord {
        OpenCLDeviceRecord(platform: platform, deviceID: deviceID, info: info)
    }
}

/// Enumerates every OpenCL platform and device, in platform order.
enum OpenCLDiscovery {
    /// All OpenCL devices; an empty list when no OpenCL platform is installed.
    static func devices() -> [OpenCLDeviceRecord] {
        var platformCount: cl_uint = 0
        guard clGetPlatformIDs(0, nil, &platformCount) == CL_SUCCESS, platformCount > 0 else { return [] }
        var platforms = [cl_platform_id?](repeating: nil, count: Int(platformCount))
        guard clGetPlatformIDs(platformCount, &platforms, nil) == CL_SUCCESS else { return [] }

        var records: [OpenCLDeviceRecord] = []
        var gpuCount = 0
        for case let platform? in platforms {
            var deviceCount: cl_uint = 0
            guard clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &deviceCount)
                == CL_SUCCESS, deviceCount > 0
            else { continue }
            var ids = [cl_device_id?](repeating: nil, count: Int(deviceCount))
            guard clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), deviceCount, &ids, nil)
                == CL_SUCCESS
            else { continue }
            for case let id? in ids {
                let index = records.count
                let type = deviceType(id)
                var aliases: [String] = []
                if type == .gpu {
                    aliases.append("gpu:\(gpuCount)")
                    gpuCount += 1
                }
                let info = describe(id, platform: platform, index: index, type: type, aliases: aliases)
                records.append(OpenCLDeviceRecord(platform: platform, deviceID: id, info: info))
            }
        }
        return records
    }

    private static func deviceType(_ id: cl_device_id) -> DeviceType {
        let bits = clInfoValue(cl_device_type.self) { clGetDeviceInfo(id, cl_device_info(CL_DEVICE_TYPE), $0, $1, $2) }
        if bits & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 { return .gpu }
        if bits & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 { return .accelerator }
        if bits & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 { return .cpu }
        return .other
    }

    private static func describe(
        _ id: cl_device_id, platform: cl_platform_id, index: Int, type: DeviceType, aliases: [String]
    ) -> DeviceInfo {
        func string(_ param: Int32) -> String {
            clInfoString { clGetDeviceInfo(id, cl_device_info(param), $0, $1, $2) }
        }
        func value<T: FixedWidthInteger>(_ param: Int32, _ type: T.Type) -> Int {
            Int(clInfoValue(type) { clGetDeviceInfo(id, cl_device_info(param), $0, $1, $2) })
        }
        let extensions = string(CL_DEVICE_EXTENSIONS).split(separator: " ").map(String.init)
        let doubleConfig = value(CL_DEVICE_DOUBLE_FP_CONFIG, cl_device_fp_config.self)
        return DeviceInfo(
            id: "opencl:\(index)",
            aliases: aliases,
            kind: .opencl,
            type: type,
            name: string(CL_DEVICE_NAME),
            vendor: string(CL_DEVICE_VENDOR),
            platform: clInfoString { clGetPlatformInfo(platform, cl_platform_info(CL_PLATFORM_NAME), $0, $1, $2) },
            platformVersion: clInfoString {
                clGetPlatformInfo(platform, cl_platform_info(CL_PLATFORM_VERSION), $0, $1, $2)
            },
            deviceVersion: string(CL_DEVICE_VERSION),
            driverVersion: string(CL_DRIVER_VERSION),
            openCLCVersion: string(CL_DEVICE_OPENCL_C_VERSION),
            computeUnits: value(CL_DEVICE_MAX_COMPUTE_UNITS, cl_uint.self),
            clockMHz: value(CL_DEVICE_MAX_CLOCK_FREQUENCY, cl_uint.self),
            globalMemoryBytes: value(CL_DEVICE_GLOBAL_MEM_SIZE, cl_ulong.self),
            localMemoryBytes: value(CL_DEVICE_LOCAL_MEM_SIZE, cl_ulong.self),
            maxAllocationBytes: value(CL_DEVICE_MAX_MEM_ALLOC_SIZE, cl_ulong.self),
            maxWorkGroupSize: value(CL_DEVICE_MAX_WORK_GROUP_SIZE, Int.self),
            fp16: extensions.contains("cl_khr_fp16"),
            fp64: extensions.contains("cl_khr_fp64") || doubleConfig != 0,
            blasThreads: nil
        )
    }
}
