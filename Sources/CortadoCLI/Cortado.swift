import ArgumentParser
import Cortado
import Foundation

/// The `cortado` command: lists devices and benchmarks them.
@main
struct CortadoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cortado",
        abstract: "Deep learning on any OpenCL device or the CPU.",
        discussion: """
            Devices are chosen with --device (or CORTADO_DEVICE): cpu, gpu[:N], opencl[:N], auto. \
            `cortado devices` lists the ones this machine has.
            """,
        version: "cortado \(CortadoVersion.string)",
        subcommands: [TrainCommand.self, EvalCommand.self, PredictCommand.self, EmbedCommand.self, QuantizeCommand.self, PruneCommand.self, ExportCommand.self, PlotCommand.self, DevicesCommand.self, CheckCommand.self, BenchCommand.self, TuneCommand.self]
    )

    /// Runs the command line, with a negative number after an option joined to it (`--epochs -3`
    /// becomes `--epochs=-3`) so that it reaches the option's check instead of reading as a flag.
    static func main() {
        main(NegativeNumbers.joined(Array(CommandLine.arguments.dropFirst())))
        if LateFailure.happened { Foundation.exit(1) }
    }
}

/// Joins negative numbers to the option before them.
enum NegativeNumbers {
    /// Whether `token` reads as a negative number: `-3`, `-0.5`, `-1e3`, `-inf`, `-nan`.
    static func isNegativeNumber(_ token: String) -> Bool {
        guard token.hasPrefix("-"), token.count > 1 else { return false }
        let rest = token.dropFirst()
        if ["inf", "infinity", "nan"].contains(rest.lowercased()) { return true }
        guard let first = rest.first, first.isNumber || first == "." else { return false }
        return Double(rest) != nil
    }

    /// `arguments` with each `--option -N` pair written `--option=-N` (up to a `--` separator).
    static func joined(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let token = arguments[index]
            if token == "--" { return result + arguments[index...] }
            if token.hasPrefix("--"), !token.contains("="), index + 1 < arguments.count,
               isNegativeNumber(arguments[index + 1]) {
                result.append("\(token)=\(arguments[index + 1])")
                index += 2
                continue
            }
            result.append(token)
            index += 1
        }
        return result
    }
}
