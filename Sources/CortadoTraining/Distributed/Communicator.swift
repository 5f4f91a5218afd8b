import Foundation

/// The collective operations a data-parallel run needs from its process group, as MPI offers them:
/// every rank calls the same operations in the same order, and each call returns once every rank
/// has made it.
///
/// ``SingleProcess`` is the group of one; `CortadoMPI`'s `MPICommunicator` runs the operations on
/// MPI. Implementations may be called from any one thread at a time.
public protocol Communicator: AnyObject, Sendable {
    /// This process's rank, 0 ..< ``size``.
    var rank: Int { get }
    /// The number of ranks.
    var size: Int { get }
    /// This process's rank among those on its machine.
    var localRank: Int { get }
    /// The number of ranks on this machine.
    var localSize: Int { get }
    /// Replaces `values` with their element-wise sum over every rank.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// Replaces `values` with their element-wise sum over every rank.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws
    /// Replaces `values` with their element-wise maximum over every rank.
    func allReduceMax(_ values: UnsafeMutableBufferPointer<Double>) throws
    /// Copies `root`'s bytes into `bytes` on every other rank (every rank passes the same count).
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws
    /// Every rank's `bytes` (of any length), in rank order.
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]]
    /// Ends every rank of the group at once, after printing `message` on this rank's stderr.
    func abort(_ message: String, code: Int32) -> Never
}

extension Communicator {
    /// The sums of `values` over every rank.
    public func allReduceSum(_ values: [Double]) throws -> [Double] {
        var copy = values
        try copy.withUnsafeMutableBufferPointer { try allReduceSum($0) }
        return copy
    }

    /// The maxima of `values` over every rank.
    public func allReduceMax(_ values: [Double]) throws -> [Double] {
        var copy = values
        try copy.withUnsafeMutableBufferPointer { try allReduceMax($0) }
        return copy
    }

    /// `root`'s bytes, of any length, on every rank.
    public func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8] {
        var count = [Double(bytes.count)]
        try count.withUnsafeMutableBytes { try broadcast($0, root: root) }
        var received = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
        try received.withUnsafeMutableBytes { try broadcast($0, root: root) }
        return received
    }

    /// `root`'s values of the dense `float32` tensor `tensor` copied into it on every rank (same
    /// shape everywhere).
    public func broadcast(_ tensor: Tensor, root: Int) throws {
        guard tensor.isContiguous else {
            throw DistributedError.communication("broadcast needs a dense tensor, not a view of shape \(tensor.shape)")
        }
        var values = try tensor.toArray()
        try values.withUnsafeMutableBytes { try broadcast($0, root: root) }
        if rank != root {
            try values.withUnsafeBytes { try tensor.backend.write($0, to: tensor.buffer, atByte: tensor.offset * 4) }
        }
    }
}

/// The process group of a run without MPI: one rank, and every collective is the identity.
public final class SingleProcess: Communicator {
    /// Always 0.
    public let rank = 0
    /// Always 1.
    public let size = 1
    /// Always 0.
    public let localRank = 0
    /// Always 1.
    public let localSize = 1

    /// The group of this process alone.
    public init() {}

    /// Leaves `values` as they are.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    /// Leaves `values` as they are.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {}
    /// Leaves `values` as they are.
    public func allReduceMax(_ values: UnsafeMutableBufferPointer<Double>) throws {}
    /// Leaves `bytes` as they are.
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {}
    /// `[bytes]`.
    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { [bytes] }
    /// Prints `message` and exits with `code`.
    public func abort(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(code)
    }
}
