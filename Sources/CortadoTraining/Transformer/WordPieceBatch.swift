/// Texts encoded together and padded with `[PAD]` to the longest of them, as Hugging Face
/// tokenizers do with `padding=True`: row-major `[batchSize, sequenceLength]` ids and mask, ready
/// to become tensors.
public struct WordPieceBatch: Sendable, Equatable {
    /// The token ids, row-major `[batchSize, sequenceLength]`; each row is `[CLS]`, word pieces,
    /// `[SEP]`, then the padding id.
    public let ids: [Int32]
    /// 1 where a row has a token, 0 at its padding; same layout as ``ids``.
    public let attentionMask: [Float]
    /// The number of texts.
    public let batchSize: Int
    /// The length of every row: the longest encoded text of the batch.
    public let sequenceLength: Int
    /// The number of real tokens of each row (`[CLS]` and `[SEP]` included).
    public let lengths: [Int]

    /// `[batchSize, sequenceLength]`.
    public var shape: [Int] { [batchSize, sequenceLength] }

    /// A batch from its parts; `ids` and `attentionMask` hold `batchSize · sequenceLength` values.
    init(ids: [Int32], attentionMask: [Float], batchSize: Int, sequenceLength: Int, lengths: [Int]) {
        assert(ids.count == batchSize * sequenceLength && attentionMask.count == ids.count && lengths.count == batchSize)
        self.ids = ids
        self.attentionMask = attentionMask
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.lengths = lengths
    }

    /// Rows of ids (each `[CLS] … [SEP]`) padded at the end with `paddingId` to the longest, with
    /// their mask.
    init(padding rows: [[Int32]], paddingId: Int32) {
        let length = rows.map(\.count).max() ?? 0
        var ids = [Int32](repeating: paddingId, count: rows.count * length)
        var mask = [Float](repeating: 0, count: rows.count * length)
        for (row, rowIds) in rows.enumerated() {
            for (column, id) in rowIds.enumerated() {
                ids[row * length + column] = id
                mask[row * length + column] = 1
            }
        }
        self.init(ids: ids, attentionMask: mask, batchSize: rows.count, sequenceLength: length, lengths: rows.map(\.count))
    }

    /// The ids of row `row`, padding included.
    public func ids(row: Int) -> ArraySlice<Int32> {
        ids[(row * sequenceLength)..<((row + 1) * sequenceLength)]
    }
}
