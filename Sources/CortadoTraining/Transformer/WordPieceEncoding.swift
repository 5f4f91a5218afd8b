/// One text as a BERT model reads it: `[CLS]`, the word pieces (truncated), `[SEP]`.
public struct WordPieceEncoding: Sendable, Equatable {
    /// The token ids, `[CLS]` first and `[SEP]` last.
    public let ids: [Int32]
    /// The vocabulary entry of each id, for inspection and JSON output.
    public let tokens: [String]
    /// 1 for every token: a single text has no padding (see ``WordPieceBatch`` for padded batches).
    public var attentionMask: [Float] { [Float](repeating: 1, count: ids.count) }
    /// Whether word pieces were cut off to respect the maximum length.
    public let truncated: Bool

    /// An encoding of `ids`, spelled `tokens`.
    public init(ids: [Int32], tokens: [String], truncated: Bool) {
        self.ids = ids
        self.tokens = tokens
        self.truncated = truncated
    }
}
