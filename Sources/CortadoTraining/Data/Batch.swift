import Cortado

/// One mini-batch, assembled and ready to copy to a device.
public struct Batch: Sendable, Equatable {
    /// The samples' features, sample after sample (row-major, batch dimension first).
    public let inputs: [Float]
    /// The shape of `inputs`: `[count] + sampleShape`, e.g. `[64, 1, 28, 28]` or `[64, 13]`.
    public let inputShape: [Int]
    /// The class labels, for a classification data set (else `nil`).
    public let labels: [Int32]?
    /// The real-valued targets, one per sample, for a regression data set (else `nil`).
    public let targets: [Float]?
    /// The number of samples (the batch size, or fewer in an epoch's last batch).
    public let count: Int
    /// The positions in the data set of the samples, in batch order.
    public let sampleIndices: [Int]
}

extension Batch {
    /// `inputs` as a tensor of shape `inputShape` on `device` (the default device if `nil`).
    public func inputTensor(device: Device? = nil) throws -> Tensor {
        try Tensor(inputs, shape: inputShape, device: device)
    }

    /// The labels as an index tensor of shape `[count]`, or the targets as a tensor of shape
    /// `[count, 1]`, on `device` (the default device if `nil`).
    public func targetTensor(device: Device? = nil) throws -> Tensor {
        if let labels { return try Tensor(indices: labels, shape: [count], device: device) }
        return try Tensor(targets ?? [], shape: [count, 1], device: device)
    }
}

extension Batch {
    /// The samples at `rows` (positions within this batch), as a batch of their own.
    public func rows(_ rows: Range<Int>) -> Batch {
        if rows == 0..<count { return self }
        let width = count > 0 ? inputs.count / count : 0
        return Batch(
            inputs: Array(inputs[(rows.lowerBound * width)..<(rows.upperBound * width)]),
            inputShape: [rows.count] + inputShape.dropFirst(), labels: labels.map { Array($0[rows]) },
            targets: targets.map { Array($0[rows]) }, count: rows.count, sampleIndices: Array(sampleIndices[rows]))
    }
}
