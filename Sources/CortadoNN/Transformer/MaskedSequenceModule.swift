/// A module over token-id sequences that also takes a padding mask: `ids` `[batch, length]`
/// (`int32`) and `mask` `[batch, length]`, 1 for real tokens and 0 for padding.
///
/// Training code that pads each batch only to its longest sequence passes the mask through this
/// entry point; ``Module/callAsFunction(_:)`` treats every token as real.
public protocol MaskedSequenceModule: Module {
    /// The module applied to `ids` with the padding that `mask` marks (every token real when `nil`).
    func callAsFunction(_ ids: Tensor, mask: Tensor?) throws -> Tensor
}

extension BertModel: MaskedSequenceModule {}
