import COpenBLAS
import CVectorMath
import Foundation

/// Describes the host CPU and the OpenBLAS build that the CPU backend uses.
enum CPUDescription {
    static func info() -> DeviceInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        func field(_ key: String) -> String? {
            for line in cpuinfo.split(separator: "\n") where line.hasPrefix(key) {
                if let colon = line.firstIndex(of: ":") {
                    return String(line[line.index(after: colon)...]).trimmingWhitespace()
                }
            }
            return nil
        }
        let config = openblas_get_config().map { String(cString: $0) } ?? "OpenBLAS"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        let clock = field("cpu MHz").flatMap(Double.init).map { Int($0) } ?? 0
        return DeviceInfo(
            id: "cpu",
            aliases: [],
            kind: .cpu,
            type: .cpu,
            name: field("model name") ?? "CPU",
            vendor: field("vendor_id") ?? "unknown",
            platform: nil,
            platformVersion: nil,
            deviceVersion: nil,
            driverVersion: "\(config) (core \(core))",
            openCLCVersion: nil,
            computeUnits: ProcessInfo.processInfo.activeProcessorCount,
            clockMHz: clock,
            globalMemoryBytes: Int(ProcessInfo.processInfo.physicalMemory),
            localMemoryBytes: nil,
            maxAllocationBytes: nil,
            maxWorkGroupSize: nil,
            fp16: false,
            fp64: true,
            blasThreads: Int(openblas_get_num_threads())
        )
    }
}

extension Device {
    /// A hint when OpenBLAS runs kernels narrower than the processor supports, else `nil`.
    ///
    /// OpenBLAS picks its kernels by CPU model when it loads; a processor newer than the build
    /// (OpenBLAS 0.3.21 on a recent Xeon, for one) gets the generic SSE3 kernels, "Prescott". On
    /// such a 16-core Xeon, sgemm 4096 ran at 221 GFLOPS with them and 1224 GFLOPS with
    /// `OPENBLAS_CORETYPE=SkylakeX`. The variable is read at load time, before Cortado runs, so
    /// this can only tell the user to set it.
    public static var cpuPerformanceAdvice: String? {
        blasAdvice(
            core: openblas_get_corename().map { String(cString: $0) } ?? "",
            level: cortado_vm_supported_level(), coreTypeSet: ProcessEnvironment.value("OPENBLAS_CORETYPE") != nil)
    }

    /// The advice for OpenBLAS kernels `core` on a processor whose widest vector level is `level`.
    package static func blasAdvice(core: String, level: cortado_vm_level, coreTypeSet: Bool) -> String? {
        let generic = ["prescott", "core2", "penryn", "dunnington", "nehalem"]
        guard generic.contains(core.lowercased()), !coreTypeSet else { return nil }
        let suggestion: (extensions: String, core: String)
        switch level {
        case CORTADO_VM_AVX512: suggestion = ("AVX-512", "SkylakeX")
        case CORTADO_VM_AVX2_FMA: suggestion = ("AVX2", "Haswell")
        default: return nil
        }
        return "OpenBLAS did not recognise this processor and runs its generic \(core) kernels, although the "
            + "processor has \(suggestion.extensions); set OPENBLAS_CORETYPE=\(suggestion.core) for several times "
            + "faster matrix products on the cpu device."
    }
}
