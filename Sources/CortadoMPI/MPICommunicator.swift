import CMPI
import Synchronization
import CortadoTraining
import Foundation

/// The ranks of an MPI job (`mpirun -np N cortado …`) as a ``Communicator``: blocking MPI
/// collectives on `MPI_COMM_WORLD`, the machine-local ranks from `MPI_Comm_split_type(SHARED)`.
///
/// MPI is initialised only when an MPI launcher started the process (``isLaunchedByMPI``), so a
/// plain `cortado train` never touches MPI. Calls are serialised by a lock (MPI is initialised with
/// `MPI_THREAD_SERIALIZED`), so the communication thread and the main thread may both use it, one
/// at a time. MPI is finalised when the process exits normally; ``abort(_:code:)`` ends every rank.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    /// This process's rank in `MPI_COMM_WORLD`.
    public let rank: Int
    /// The number of ranks in `MPI_COMM_WORLD`.
    public let size: Int
    /// This process's rank among the ranks on its machine.
    public let localRank: Int
    /// The number of ranks on this machine.
    public let localSize: Int
    /// Serialises every MPI call (the MPI library was initialised for one thread at a time).
    private let lock = NSLock()

    /// Environment variables that MPI launchers set in the processes they start: Open MPI's
    /// `mpirun`, PMIx launchers, MPICH's Hydra and Slurm's PMI.
    public static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"]

    /// Whether an MPI launcher started this process.
    public static var isLaunchedByMPI: Bool {
        return launcherVariables.contains { ProcessEnvironment.value($0) != nil }
    }

    /// The process group this process belongs to: MPI's when an MPI launcher started it, else
    /// ``SingleProcess``.
    public static func launched() throws -> any Communicator {
        isLaunchedByMPI ? try shared() : SingleProcess()
    }

    private static let instance = Mutex<MPICommunicator?>(nil)

    /// The communicator of this process, initialising MPI on first use.
    public static func shared() throws -> MPICommunicator {
        try instance.withLock { existing in
            if let existing { return existing }
            let created = try MPICommunicator()
            existing = created
            return created
        }
    }

    private init() throws {
        var provided: Int32 = 0
        let status = MPI_Init_thread(nil, nil, cortado_mpi_thread_serialized(), &provided)
        guard status == cortado_mpi_success() else {
            throw DistributedError.communication("MPI_Init_thread failed: \(Self.message(status))")
        }
        guard provided >= cortado_mpi_thread_serialized() else {
            MPI_Finalize()
            throw DistributedError.communication("the MPI library offers thread level \(provided), and Cortado's communication thread needs MPI_THREAD_SERIALIZED")
        }
        atexit { MPICommunicator.finalizeAtExit() }
        let world = cortado_mpi_comm_world()
        // Errors come back as codes, so a failure names the operation instead of aborting blindly.
        MPI_Comm_set_errhandler(world, cortado_mpi_errors_return())
        var value: Int32 = 0
        MPI_Comm_rank(world, &value)
        rank = Int(value)
        MPI_Comm_size(world, &value)
        size = Int(value)
        var local = cortado_mpi_comm_null()
        MPI_Comm_split_type(world, cortado_mpi_comm_type_shared(), value, cortado_mpi_info_null(), &local)
        MPI_Comm_rank(local, &value)
        localRank = Int(value)
        MPI_Comm_size(local, &value)
        localSize = Int(value)
        MPI_Comm_free(&local)
    }

    private static let finalized = Mutex(false)

    /// `MPI_Finalize`, once, unless the job was aborted.
    private static func finalizeAtExit() {
        let first = finalized.withLock { done in
            defer { done = true }
            return !done
        }
        if first { MPI_Finalize() }
    }

    private func check(_ status: Int32, _ operation: String) throws {
        guard status != cortado_mpi_success() else { return }
        throw DistributedError.communication("rank \(rank): \(operation) failed: \(Self.message(status))")
    }

    private static func message(_ status: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(cortado_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(status, &buffer, &length)
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `MPI_Allreduce(MPI_IN_PLACE, …, MPI_FLOAT, MPI_SUM)`.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        guard values.count > 0 else { return }
        try lock.withLock {
            try check(MPI_Allreduce(cortado_mpi_in_place(), values.baseAddress, Int32(values.count), cortado_mpi_float(),
                                    cortado_mpi_sum(), cortado_mpi_comm_world()), "MPI_Allreduce of \(values.count) floats")
        }
    }

    /// `MPI_Allreduce(MPI_IN_PLACE, …, MPI_DOUBLE, MPI_SUM)`.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {
        guard values.count > 0 else { return }
        try lock.withLock {
            try check(MPI_Allreduce(cortado_mpi_in_place(), values.baseAddress, Int32(values.count), cortado_mpi_double(),
                                    cortado_mpi_sum(), cortado_mpi_comm_world()), "MPI_Allreduce of \(values.count) doubles")
        }
    }

    /// `MPI_Allreduce(MPI_IN_PLACE, …, MPI_DOUBLE, MPI_MAX)`.
    public func allReduceMax(_ values: UnsafeMutableBufferPointer<Double>) throws {
        guard values.count > 0 else { return }
        try lock.withLock {
            try check(MPI_Allreduce(cortado_mpi_in_place(), values.baseAddress, Int32(values.count), cortado_mpi_double(),
                                    cortado_mpi_max(), cortado_mpi_comm_world()), "MPI_Allreduce (max) of \(values.count) doubles")
        }
    }

    /// `MPI_Bcast` of bytes, in pieces of at most 1 GiB (MPI counts are 32-bit).
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard let base = bytes.baseAddress else { return }
        try lock.withLock {
            var start = 0
            while start < bytes.count {
                let count = min(bytes.count - start, 1 << 30)
                try check(MPI_Bcast(base + start, Int32(count), cortado_mpi_byte(), Int32(root), cortado_mpi_comm_world()),
                          "MPI_Bcast of \(bytes.count) bytes from rank \(root)")
                start += count
            }
        }
    }

    /// `MPI_Allgather` of the lengths, then `MPI_Allgatherv` of the bytes.
    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        try lock.withLock {
            var count = Int32(bytes.count)
            var counts = [Int32](repeating: 0, count: size)
            try check(MPI_Allgather(&count, 1, cortado_mpi_int(), &counts, 1, cortado_mpi_int(), cortado_mpi_comm_world()),
                      "MPI_Allgather of lengths")
            var offsets = [Int32](repeating: 0, count: size)
            for index in 1..<max(size, 1) { offsets[index] = offsets[index - 1] + counts[index - 1] }
            var gathered = [UInt8](repeating: 0, count: Int(counts.reduce(0, +)))
            var send = bytes
            try check(MPI_Allgatherv(&send, count, cortado_mpi_byte(), &gathered, &counts, &offsets, cortado_mpi_byte(),
                                     cortado_mpi_comm_world()), "MPI_Allgatherv of \(bytes.count) bytes")
            return (0..<size).map { Array(gathered[Int(offsets[$0])..<Int(offsets[$0] + counts[$0])]) }
        }
    }

    /// Prints `message` on stderr and calls `MPI_Abort`, which ends every rank of the job.
    public func abort(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        Self.finalized.withLock { $0 = true }
        MPI_Abort(cortado_mpi_comm_world(), code)
        exit(code)
    }
}
