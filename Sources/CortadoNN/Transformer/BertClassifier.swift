/// A sequence classifier on a BERT encoder: the last hidden states averaged over the real tokens
/// (``Tensor/meanPooled(mask:)``), dropout, then `Linear(hidden, outputs)` giving logits (one for a
/// sigmoid over two classes, one per class for a softmax).
///
/// Parameter names are the encoder's own (`embeddings.…`, `encoder.layer.N.…`, as ``BertModel``
/// has them, without `bert.`) plus `classifier.weight` and `classifier.bias`, as in Hugging Face's
/// `BertForSequenceClassification`. Unlike that class it pools by the mean over the mask, as
/// sentence-transformers does, rather than through BERT's `[CLS]` pooler.
///
/// ```swift
/// let classifier = try BertClassifier(encoder: directory.loadEncoder(), outputs: 1)
/// let logits = try classifier(ids, mask: mask)      // [batch, 1]
/// ```
public final class BertClassifier: MaskedSequenceModule {
    /// The encoder, fine-tuned with the head.
    public let encoder: BertModel
    /// Dropout on the pooled vector, in training.
    public let dropout: Dropout
    /// The head: hidden → outputs.
    public let classifier: Linear

    /// Training (dropout active) or evaluation; the encoder follows.
    public var isTraining: Bool {
        get { encoder.isTraining }
        set { encoder.isTraining = newValue }
    }

    /// A head of `outputs` logits on `encoder` (pretrained or not), its weight drawn from
    /// `N(0, initializerRange)` (0 leaves it zero, to be loaded) and its bias zero.
    public init(
        encoder: BertModel, outputs: Int, dropout: Float = 0.1, initializerRange: Float = 0.02, device: Device? = nil,
        generator: RandomGenerator? = nil
    ) throws {
        guard outputs > 0 else { throw CortadoError.invalidArgument("BertClassifier: outputs must be positive, got \(outputs)") }
        self.encoder = encoder
        self.dropout = try Dropout(dropout, generator: generator)
        classifier = try Linear(encoder.architecture.hiddenSize, outputs, weightInitializer: .bert(range: initializerRange),
                                device: device, generator: generator)
    }

    /// A randomly initialised encoder of `architecture` with a head; the head's dropout is the
    /// architecture's hidden dropout.
    public convenience init(
        _ architecture: BertArchitecture, outputs: Int, initializerRange: Float = 0.02, device: Device? = nil,
        generator: RandomGenerator? = nil
    ) throws {
        let encoder = try BertModel(architecture, initializerRange: initializerRange, device: device, generator: generator)
        try self.init(encoder: encoder, outputs: outputs, dropout: architecture.hiddenDropout,
                      initializerRange: initializerRange, device: device, generator: generator)
    }

    /// The encoder's submodules under their own names, then `dropout` and `classifier`.
    public var children: [(name: String, module: any Module)] {
        encoder.children + [("dropout", dropout), ("classifier", classifier)]
    }

    /// The logits of `ids` with every token real.
    public func callAsFunction(_ ids: Tensor) throws -> Tensor {
        try callAsFunction(ids, mask: nil)
    }

    /// The logits `[batch, outputs]` of `int32` ids `[batch, length]`; `mask` `[batch, length]` is
    /// 1 for real tokens and 0 for padding (all real when `nil`).
    public func callAsFunction(_ ids: Tensor, mask: Tensor?) throws -> Tensor {
        let hidden = try encoder(ids, mask: mask)
        let pooled = try mask.map { try hidden.meanPooled(mask: $0) } ?? hidden.mean(axes: [1])
        return try classifier(dropout(pooled))
    }
}
