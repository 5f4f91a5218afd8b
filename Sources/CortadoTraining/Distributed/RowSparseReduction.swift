/// All-reduces a `[rows, width]` gradient by summing only the rows that some rank touched, as an
/// embedding table's gradient is: the rows of the tokens in the global batch (32 movie-snippets
/// texts touch 356–526 of all-MiniLM-L6-v2's 30,522). Horovod and DDP's sparse embedding
/// gradients save the same bytes.
///
/// Each rank marks its rows that hold any bit other than zero; one all-reduce of those marks gives
/// the union. When the union holds at most a quarter of the rows, the ranks pack those rows,
/// all-reduce them and unpack the sums; a row outside the union is zero on every rank, which is
/// already its sum. So the result is the dense all-reduce's, bit for bit (the marks count `-0.0`
/// as touched). When the union is larger, the gradient is all-reduced whole, and from then on the
/// rows are no longer marked (every rank sees the same union, so every rank stops together).
final class RowSparseReduction: @unchecked Sendable {
    /// The gradient's rows and the values per row.
    let rows: Int, width: Int
    /// The most rows that are packed: beyond them the dense all-reduce is as cheap.
    let capacity: Int
    /// Whether the next reduction marks rows (until a union came out larger than ``capacity``).
    private(set) var enabled = true
    /// The rows of the last reduction's union, or `nil` after a dense one.
    private(set) var lastUnion: Int?
    private let marks: UnsafeMutableBufferPointer<Float>
    private let packed: UnsafeMutableBufferPointer<Float>

    /// The fewest rows a gradient needs for its rows to be marked.
    static let minimumRows = 1024

    /// Scratch for a `[rows, width]` gradient, or `nil` when it is too short to be worth marking.
    init?(rows: Int, width: Int) {
        guard rows >= Self.minimumRows, width > 0 else { return nil }
        self.rows = rows
        self.width = width
        capacity = rows / 4
        marks = .allocate(capacity: rows)
        marks.initialize(repeating: 0)
        packed = .allocate(capacity: capacity * width)
        packed.initialize(repeating: 0)
    }

    deinit {
        marks.deallocate()
        packed.deallocate()
    }

    /// Replaces `values` (`rows × width`, row-major) with their element-wise sum over every rank of
    /// `communicator`.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>, communicator: any Communicator) throws {
        precondition(values.count == rows * width, "a row-sparse reduction of \(values.count) values for \(rows) × \(width)")
        guard enabled else {
            try communicator.allReduceSum(values)
            return
        }
        markTouchedRows(values)
        try communicator.allReduceSum(marks)
        var union = 0
        for row in 0..<rows where marks[row] > 0 { union += 1 }
        guard union <= capacity else {
            enabled = false
            lastUnion = nil
            try communicator.allReduceSum(values)
            return
        }
        lastUnion = union
        guard union > 0, let source = values.baseAddress, let target = packed.baseAddress else { return }
        var slot = 0
        for row in 0..<rows where marks[row] > 0 {
            (target + slot * width).update(from: source + row * width, count: width)
            slot += 1
        }
        try communicator.allReduceSum(UnsafeMutableBufferPointer(rebasing: packed[..<(union * width)]))
        slot = 0
        for row in 0..<rows where marks[row] > 0 {
            (source + row * width).update(from: target + slot * width, count: width)
            slot += 1
        }
    }

    /// Sets `marks[row]` to 1 where the row holds any bit other than zero, else 0. A touched row
    /// almost always shows it in its first value; only untouched rows are read to the end.
    private func markTouchedRows(_ values: UnsafeMutableBufferPointer<Float>) {
        guard let base = values.baseAddress else { return }
        UnsafeRawPointer(base).withMemoryRebound(to: UInt32.self, capacity: values.count) { bits in
            for row in 0..<rows {
                let start = bits + row * width
                if start[0] != 0 {
                    marks[row] = 1
                    continue
                }
                var any: UInt32 = 0
                for index in 1..<width { any |= start[index] }
                marks[row] = any != 0 ? 1 : 0
            }
        }
    }
}
