import ArgumentParser
import Cortado
import CortadoTraining
import Foundation

/// Resolves `--device` values (or `CORTADO_DEVICE`, or `auto`) to devices, printing the one-line
/// notice that `auto` gives on stderr, and ``Device/cpuPerformanceAdvice`` when the cpu is chosen.
enum DeviceSelection {
    /// The devices named by `specs`; when empty, `CORTADO_DEVICE` or `fallback`. `quiet` keeps the
    /// notices to another process (an MPI rank other than 0).
    static func resolve(_ specs: [String], fallback: [String] = ["auto"], quiet: Bool = false) throws -> [Device] {
        let environment = ProcessEnvironment.value("CORTADO_DEVICE").map { [$0] }
        var devices: [Device] = []
        for spec in specs.isEmpty ? (environment ?? fallback) : specs {
            let resolution = try Device.resolve(spec)
            if let notice = resolution.notice, !quiet { Terminal.note(notice) }
            if !devices.contains(resolution.device) { devices.append(resolution.device) }
        }
        if devices.contains(.cpu), !quiet, let advice = Device.cpuPerformanceAdvice { Terminal.note("note: \(advice)") }
        return devices
    }

    /// For `auto` and `auto:fresh` (as given, or from `CORTADO_DEVICE`), the probe that measures
    /// every device on the workload; `nil` for a named device.
    static func probe(_ spec: String?) -> DeviceProbe? {
        let value = (spec ?? ProcessEnvironment.value("CORTADO_DEVICE") ?? "auto").trimmingCharacters(in: .whitespaces).lowercased()
        guard value == "auto" || value == "auto:fresh" else { return nil }
        return DeviceProbe(fresh: value == "auto:fresh")
    }

    /// Prints what `--device auto` measured and chose (or, when it measured nothing, what it
    /// fell back to), and the cpu's performance advice when the cpu was chosen.
    static func report(_ decision: DeviceDecision?, device: Device, quiet: Bool = false) {
        guard !quiet else { return }
        if let decision {
            Terminal.note(decision.summary)
            if let note = decision.note { Terminal.note("note: \(note)") }
        } else if let notice = try? Device.resolve("auto").notice {
            Terminal.note(notice + " (not measured: the model loads with its data)")
        }
        if device == .cpu, let advice = Device.cpuPerformanceAdvice { Terminal.note("note: \(advice)") }
    }
}

/// Writing to the terminal.
enum Terminal {
    /// Prints a line on stderr.
    static func note(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Formats rows as left-aligned columns under a header.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    /// One JSON object on one line, keys sorted.
    static func jsonLine<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
