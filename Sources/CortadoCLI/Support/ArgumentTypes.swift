import ArgumentParser
import CortadoBenchmarks
import CortadoTraining

extension BuiltinModel: ExpressibleByArgument {}
extension Task: ExpressibleByArgument {}

extension BenchmarkModel: ExpressibleByArgument {
    /// Parses a model name for `cortado bench --model`.
    public init?(argument: String) { self.init(name: argument) }
    /// The names, for help and completion.
    public static var allValueStrings: [String] { names }
    /// The name, for a default value in help.
    public var defaultValueDescription: String { name }
}

extension OptimizerChoice: ExpressibleByArgument {}
extension ScheduleChoice: ExpressibleByArgument {}
extension BatchBalance: ExpressibleByArgument {}
