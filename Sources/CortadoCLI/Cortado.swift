import ArgumentParser
import Cortado

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
        subcommands: [TrainCommand.self, EvalCommand.self, PredictCommand.self, EmbedCommand.self, ExportCommand.self, PlotCommand.self, DevicesCommand.self, BenchCommand.self, TuneCommand.self]
    )
}
