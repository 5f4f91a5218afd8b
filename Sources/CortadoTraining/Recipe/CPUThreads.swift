import Foundation

/// How many threads a process gives its CPU work: OpenBLAS's and Cortado's own worker pool.
///
/// Set it before the first CPU operation: Cortado's pool reads `CORTADO_NUM_THREADS` once, when
/// it starts. Ranks of a data-parallel job that share a machine divide its cores between them by
/// default (``defaultCount(localRanks:)``), so they do not oversubscribe it.
public enum CPUThreads {
    /// The environment variable that sets the count for any command.
    public static let environmentVariable = "CORTADO_NUM_THREADS"
    /// The most threads accepted (OpenBLAS and PoCL start one thread per count, and abort when the
    /// system refuses to create them).
    public static let maximumCount = 1024

    /// The count `CORTADO_NUM_THREADS` asks for, if it holds a positive number.
    /// - Throws: ``TrainingError/invalidOption(_:)`` naming the variable when it holds anything else.
    public static func requested() throws -> Int? {
        guard let text = ProcessEnvironment.value(environmentVariable), !text.isEmpty else { return nil }
        guard let count = Int(text), count > 0, count <= maximumCount else {
            throw TrainingError.invalidOption("\(environmentVariable)=\(text) must be a number of threads from 1 to \(maximumCount)")
        }
        return count
    }

    /// The cores this process may run on: its affinity mask (`Cpus_allowed` in `/proc/self/status`),
    /// which an MPI launcher may narrow; the active processor count where that cannot be read.
    public static var allowedCores: Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") })
        else { return max(ProcessInfo.processInfo.activeProcessorCount, 1) }
        let mask = line.dropFirst("Cpus_allowed:".count).filter { $0.isHexDigit }
        let count = mask.reduce(0) { $0 + (Int(String($1), radix: 16) ?? 0).nonzeroBitCount }
        return count > 0 ? count : max(ProcessInfo.processInfo.activeProcessorCount, 1)
    }

    /// The machine's online cores.
    public static var machineCores: Int { max(sysconf(Int32(_SC_NPROCESSORS_ONLN)), 1) }

    /// The default for a process that shares its machine with `localRanks` ranks of a job: the
    /// cores it is bound to when the launcher narrowed them, else an equal share of the machine's.
    public static func defaultCount(localRanks: Int) -> Int {
        let allowed = allowedCores
        if localRanks <= 1 || allowed < machineCores { return allowed }
        return max(machineCores / localRanks, 1)
    }

    /// Gives this process `count` CPU threads: sets `CORTADO_NUM_THREADS` for Cortado's pool and
    /// `OPENBLAS_NUM_THREADS`, tells a loaded OpenBLAS (`openblas_set_num_threads`), and, unless
    /// set already, limits PoCL's CPU device to as many threads (`POCL_MAX_PTHREAD_COUNT`, which PoCL 3
    /// reads when OpenCL starts, so call this before the first device is listed).
    public static func configure(_ count: Int) throws {
        guard count > 0, count <= maximumCount else {
            throw TrainingError.invalidOption("--threads must be between 1 and \(maximumCount), not \(count)")
        }
        ProcessEnvironment.set(environmentVariable, String(count))
        ProcessEnvironment.set("OPENBLAS_NUM_THREADS", String(count))
        ProcessEnvironment.set("POCL_MAX_PTHREAD_COUNT", String(count), overwrite: false)
        typealias SetThreads = @convention(c) (Int32) -> Void
        let handle = dlopen(nil, RTLD_NOW)
        defer { if let handle { dlclose(handle) } }
        if let symbol = dlsym(handle, "openblas_set_num_threads") {
            unsafeBitCast(symbol, to: SetThreads.self)(Int32(count))
        }
    }

    /// OpenBLAS's current thread count (`openblas_get_num_threads`), or `nil` without OpenBLAS.
    public static var openBLASThreads: Int? {
        typealias GetThreads = @convention(c) () -> Int32
        let handle = dlopen(nil, RTLD_NOW)
        defer { if let handle { dlclose(handle) } }
        return dlsym(handle, "openblas_get_num_threads").map { Int(unsafeBitCast($0, to: GetThreads.self)()) }
    }
}
