import Foundation

/// Shortens how long OpenBLAS's idle worker threads spin before they sleep.
///
/// After a product, each OpenBLAS worker busy-waits (calling `sched_yield`) for 2²⁸ cycles, about
/// a tenth of a second, in case another product follows. Between two products Cortado runs its own
/// loops on every core, so the spinning workers compete with them: 13 % of a MiniLM embedding
/// run's profile on 2 cores. With 2¹⁸ cycles (about 0.1 ms) that run took 9.5 s instead of 10.2 s
/// (medians of three), and the LSTM training step, whose products follow each other within
/// microseconds, was no slower (694 against 675 samples/s); 2¹⁶ made the LSTM step slower in
/// some runs, as its workers then went to sleep between steps.
///
/// OpenBLAS reads the setting, `OPENBLAS_THREAD_TIMEOUT`, when it loads, before Cortado runs, and
/// applies it when it starts its threads; so this sets the variable, has OpenBLAS read it again and
/// restarts the threads. The functions are looked up by name: a BLAS without them (or one not built
/// with pthreads) is left alone, as is a timeout the user has set.
enum OpenBLASThreads {
    /// log₂ of the spin, in cycles (OpenBLAS accepts 4 … 30).
    static let spinCyclesLog2 = 18

    /// Applies the shorter spin, once per process.
    static let configure: Void = {
        guard ProcessEnvironment.value("OPENBLAS_THREAD_TIMEOUT") == nil else { return }
        typealias Function = @convention(c) () -> Int32
        let handle = dlopen(nil, RTLD_NOW)
        defer { if let handle { dlclose(handle) } }
        func lookup(_ name: String) -> Function? {
            dlsym(handle, name).map { unsafeBitCast($0, to: Function.self) }
        }
        guard let readEnvironment = lookup("openblas_read_env"),
              let shutDown = lookup("blas_thread_shutdown_"),
              let start = lookup("blas_thread_init")
        else { return }
        ProcessEnvironment.whileLocked {
            _ = setenv("OPENBLAS_THREAD_TIMEOUT", String(spinCyclesLog2), 0)
            _ = readEnvironment()
        }
        _ = shutDown()
        _ = start()
    }()
}
