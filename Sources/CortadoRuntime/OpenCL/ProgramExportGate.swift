import COpenCL

/// Keeps PoCL from exporting a program binary while kernels run, anywhere in the process.
///
/// PoCL 3.x (Debian bookworm's) keeps one process-wide cache of loaded work-group functions, keyed
/// by kernel (program build hash and name) and work-group size. Asking for a program's binary
/// (`clGetProgramInfo(CL_PROGRAM_BINARIES)`) compiles a generic work-group function for every
/// kernel built for a fixed work-group size and puts it at the front of that cache with no users.
/// A kernel command that finishes releases the first entry of its kernel and work-group size, not
/// the one it took; when that is the new entry, PoCL aborts the process
/// (`pocl_release_dlhandle_cache: Assertion 'found->ref_count > 0' failed`). Any backend of the
/// process may run the same kernels (one program source and options give one build hash), so an
/// export must not overlap a running kernel of any of them: while it exports, this gate holds back
/// every kernel launch on PoCL and first waits for each PoCL queue to finish its work.
final class ProgramExportGate: Sendable {
    /// The gate of this process.
    static let shared = ProgramExportGate()

    /// The queues of the live PoCL backends, by backend.
    private let queues = Locked<[ObjectIdentifier: UncheckedSendable<cl_command_queue>]>([:])

    /// Whether backends on `platform` go through the gate: PoCL's, whose CPU devices keep the
    /// process-wide cache described above.
    static func isNeeded(onPlatform platform: String?) -> Bool {
        platform?.contains("Portable Computing Language") == true
    }

    /// Adds `queue` of `backend` to the queues an export waits for.
    func register(_ backend: AnyObject, queue: cl_command_queue) {
        queues.withLock { $0[ObjectIdentifier(backend)] = UncheckedSendable(queue) }
    }

    /// Removes the queue of `backend` (before the queue is released).
    func unregister(_ backend: AnyObject) {
        _ = queues.withLock { $0.removeValue(forKey: ObjectIdentifier(backend)) }
    }

    /// Runs `enqueue` (a kernel launch) while no export is under way.
    func launching<Result>(_ enqueue: () throws -> Result) rethrows -> Result {
        try queues.withLock { _ in try enqueue() }
    }

    /// Runs `export` (`clGetProgramInfo` for binaries) with every registered queue finished and
    /// no kernel launch in between.
    func exporting<Result>(_ export: () throws -> Result) rethrows -> Result {
        try queues.withLock { queues in
            for queue in queues.values { clFinish(queue.value) }
            return try export()
        }
    }
}
