import ArgumentParser
import CortadoTraining

/// `--allow-nonfinite`, for the commands that load weights: accept a checkpoint or model whose
/// weights hold NaN or infinite values (refused by default).
struct NonFiniteOption: ParsableArguments {
    @Flag(help: "Load weights even when they hold NaN or infinite values (refused by default: such a model computes NaN or meaningless results).")
    var allowNonfinite = false

    /// Sets the library's policy for this run.
    func apply() {
        NonFiniteWeights.areAllowed = allowNonfinite
    }
}
