import Foundation

/// A parameter read back to the host for pruning: its shape and float32 values, viewed as rows
/// (the first dimension) of `rowLength` values each (1 for a vector).
struct HostTensor: Equatable {
    /// The tensor's shape.
    var shape: [Int]
    /// Its values, row-major.
    var values: [Float]

    /// The first dimension.
    var rows: Int { shape.first ?? 1 }
    /// Values per row: the product of the other dimensions.
    var rowLength: Int { shape.dropFirst().reduce(1, *) }

    /// Rows per unit when the rows hold `gates` blocks of `count` units each (an LSTM's four gates;
    /// 1 for a plain layer); throws unless they divide evenly.
    func rowBlock(_ name: String, count: Int, gates: Int) throws -> Int {
        guard count > 0, gates > 0, rows % (gates * count) == 0 else {
            throw CortadoError.shapeMismatch("pruning: tensor '\(name)' of shape \(shape) does not split into \(gates) × \(count) units")
        }
        return rows / (gates * count)
    }

    /// The norm of each of `count` units over its rows (in every gate block): the sum of absolute
    /// values (`l1`) or the root of the sum of squares (`l2`), in double precision.
    func unitSums(_ name: String, count: Int, gates: Int, norm: PruningNorm) throws -> [Double] {
        let block = try rowBlock(name, count: count, gates: gates)
        var sums = [Double](repeating: 0, count: count)
        let span = block * rowLength
        for gate in 0..<gates {
            for unit in 0..<count {
                let start = (gate * count + unit) * span
                for value in values[start..<start + span] {
                    sums[unit] += norm == .l1 ? Double(abs(value)) : Double(value) * Double(value)
                }
            }
        }
        return sums
    }

    /// The rows of the `units` kept (ascending), in every gate block.
    func keepingRows(_ name: String, _ units: [Int], count: Int, gates: Int) throws -> HostTensor {
        let block = try rowBlock(name, count: count, gates: gates)
        let span = block * rowLength
        var kept: [Float] = []
        kept.reserveCapacity(gates * units.count * span)
        for gate in 0..<gates {
            for unit in units {
                let start = (gate * count + unit) * span
                kept += values[start..<start + span]
            }
        }
        var newShape = shape
        newShape[0] = gates * units.count * block
        return HostTensor(shape: newShape, values: kept)
    }

    /// For each of `count` units, `Σ self ⊙ gradient` over its block of columns (as
    /// ``keepingColumns(_:_:count:)`` splits them), in double precision: how the loss would change,
    /// to first order, if the unit's output were cut.
    func columnTaylorSums(_ name: String, gradient: HostTensor, count: Int) throws -> [Double] {
        guard shape.count >= 2, count > 0, shape[1] % count == 0, gradient.shape == shape else {
            throw CortadoError.shapeMismatch("pruning: the columns of tensor '\(name)' of shape \(shape) do not split into \(count) units")
        }
        let length = rowLength, block = length / count
        var sums = [Double](repeating: 0, count: count)
        for row in 0..<rows {
            for unit in 0..<count {
                let start = row * length + unit * block
                for index in start..<(start + block) { sums[unit] += Double(values[index]) * Double(gradient.values[index]) }
            }
        }
        return sums
    }

    /// The columns of the `units` kept (ascending) when each row's values split into `count` equal
    /// blocks, one per unit: the input channels of a convolution (`[O, I, kh, kw]`), the inputs of a
    /// `Linear` (after a `Flatten`, a channel's whole feature map).
    func keepingColumns(_ name: String, _ units: [Int], count: Int) throws -> HostTensor {
        guard shape.count >= 2, count > 0, shape[1] % count == 0 else {
            throw CortadoError.shapeMismatch("pruning: the columns of tensor '\(name)' of shape \(shape) do not split into \(count) units")
        }
        let length = rowLength, block = length / count
        var kept: [Float] = []
        kept.reserveCapacity(rows * units.count * block)
        for row in 0..<rows {
            for unit in units {
                let start = row * length + unit * block
                kept += values[start..<start + block]
            }
        }
        var newShape = shape
        newShape[1] = shape[1] / count * units.count
        return HostTensor(shape: newShape, values: kept)
    }
}

extension Pruning {
    /// The `keep` units of `scores` with the largest scores, in ascending order of index (ties go
    /// to the lower index).
    static func strongest(_ scores: [Double], keep: Int) -> [Int] {
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        return order.prefix(keep).sorted()
    }

    /// How many of `count` units stay at `sparsity`: `count − round(sparsity · count)`, at least 1.
    public static func keptUnits(of count: Int, sparsity: Double) -> Int {
        max(1, count - Int((sparsity * Double(count)).rounded()))
    }
}
