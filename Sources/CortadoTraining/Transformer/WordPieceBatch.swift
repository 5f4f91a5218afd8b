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

    /// The ids of row `row`, padding included.
    public func ids(row: Int) -> ArraySlice<Int32> {
        ids[(row * sequenceLength)..<((row + 1) * sequenceLength)]
    }
}
