import ArgumentParser
import CortadoTraining

/// `--threads N`, which every command takes: the CPU threads of OpenBLAS and of Cortado's own loops.
struct ThreadsOption: ParsableArguments {
    @Option(help: "CPU threads for OpenBLAS and Cortado's loops (default: CORTADO_NUM_THREADS, else every core; ranks of an MPI job on one machine share its cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads <= 0 || threads > CPUThreads.maximumCount {
            throw ValidationError("--threads must be between 1 and \(CPUThreads.maximumCount), not \(threads)")
        }
    }

    /// Sets the thread count before any CPU work: `--threads`, else `CORTADO_NUM_THREADS`, else,
    /// for one of `localRanks` ranks sharing the machine, its share of the cores.
    func apply(localRanks: Int = 1) throws {
        if let count = try threads ?? CPUThreads.requested() {
            try CPUThreads.configure(count)
        } else if localRanks > 1 {
            try CPUThreads.configure(CPUThreads.defaultCount(localRanks: localRanks))
        }
    }
}
