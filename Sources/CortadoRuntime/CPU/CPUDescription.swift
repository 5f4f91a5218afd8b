import COpenBLAS
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
