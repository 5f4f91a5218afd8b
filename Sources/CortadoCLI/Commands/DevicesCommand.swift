import ArgumentParser
import Cortado
import Foundation

/// `cortado devices`: every OpenCL platform and device, and the CPU.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the CPU and every OpenCL device, with the strings that select them.")

    @Flag(help: "Print a JSON array (keys: id, name, kind, type, vendor, compute_units, …).")
    var json = false

    @OptionGroup var cpu: ThreadsOption

    func run() throws {
        try cpu.apply()
        let devices = Device.all
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(devices), as: UTF8.self))
            return
        }
        for info in devices {
            print(Self.describe(info))
            if info.kind == .cpu, let advice = Device.cpuPerformanceAdvice { print("    note: \(advice)") }
            print()
        }
        if !devices.contains(where: { $0.kind == .opencl }) {
            print("No OpenCL device found: install an OpenCL driver (PoCL for CPUs: the pocl-opencl-icd package).")
        }
    }

    static func describe(_ info: DeviceInfo) -> String {
        var lines = ["\(([info.id] + info.aliases).joined(separator: ", "))  \(info.name)"]
        func add(_ label: String, _ value: String?) {
            if let value, !value.isEmpty { lines.append("    \(label.padding(toLength: 18, withPad: " ", startingAt: 0))\(value)") }
        }
        add("kind / type", "\(info.kind.rawValue) / \(info.type.rawValue)")
        add("vendor", info.vendor)
        add("platform", info.platform.map { p in info.platformVersion.map { "\(p) (\($0))" } ?? p })
        add("compute units", "\(info.computeUnits)" + (info.clockMHz > 0 ? " @ \(info.clockMHz) MHz" : ""))
        add("global memory", formatBytes(info.globalMemoryBytes))
        add("local memory", info.localMemoryBytes.map(formatBytes))
        add("max allocation", info.maxAllocationBytes.map(formatBytes))
        add("max work-group", info.maxWorkGroupSize.map(String.init))
        add("OpenCL C", info.openCLCVersion)
        if info.kind == .opencl { add("fp16 / fp64", "\(info.fp16 ? "yes" : "no") / \(info.fp64 ? "yes" : "no")") }
        add("driver", info.driverVersion)
        add("BLAS threads", info.blasThreads.map(String.init))
        return lines.joined(separator: "\n")
    }
}
