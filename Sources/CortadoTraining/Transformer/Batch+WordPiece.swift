import Cortado

extension Batch {
    /// The batch's WordPiece rows cut back to the longest of them, as `int32` ids `[count, length]`
    /// and a `float32` mask (1 for real tokens, 0 for padding) on `device`: padding to the longest
    /// in the batch, as Hugging Face's `padding=True`, however long the stored rows are.
    ///
    /// A row's real tokens are those up to its last id that is not `paddingId` (its `[SEP]`).
    /// `length`, when given, pads the rows to at least that many columns: a part of a larger batch
    /// (a rank's share, a micro-batch) padded as the whole batch is, so that each row's
    /// per-position random draws (dropout) are those of the whole batch.
    /// - Throws: ``DataError`` when an input is not a whole number in the `Int32` range.
    public func wordPieceTensors(paddingId: Int32, device: Device? = nil, length minimum: Int? = nil) throws -> (ids: Tensor, mask: Tensor) {
        let width = inputShape.dropFirst().reduce(1, *)
        let rowLengths = wordPieceRowLengths(paddingId: paddingId)
        let length = max(rowLengths.max() ?? 1, min(minimum ?? 1, width), 1)
        var ids = [Int32](repeating: paddingId, count: count * length)
        var mask = [Float](repeating: 0, count: count * length)
        for row in 0..<count {
            for column in 0..<rowLengths[row] {
                let value = inputs[row * width + column]
                guard let id = Int32(exactly: value) else {
                    throw DataError.invalidRequest(
                        "input \(row * width + column) of the batch is \(value), not a whole number in the Int32 range, so it cannot be a token id")
                }
                ids[row * length + column] = id
                mask[row * length + column] = 1
            }
        }
        return (try Tensor(indices: ids, shape: [count, length], device: device),
                try Tensor(mask, shape: [count, length], device: device))
    }

    /// The length of the longest WordPiece row (see ``wordPieceTensors(paddingId:device:length:)``).
    public func longestWordPieceRow(paddingId: Int32) -> Int {
        max(wordPieceRowLengths(paddingId: paddingId).max() ?? 1, 1)
    }

    /// Each row's real tokens: up to its last id that is not `paddingId`.
    private func wordPieceRowLengths(paddingId: Int32) -> [Int] {
        let width = inputShape.dropFirst().reduce(1, *)
        let padding = Float(paddingId)
        return (0..<count).map { row in
            let start = row * width
            var end = start + width
            while end > start && inputs[end - 1] == padding { end -= 1 }
            return end - start
        }
    }
}
