/// BERT's input layer: word-piece, position and token-type embeddings summed, then LayerNorm and
/// dropout. Parameter names follow Hugging Face (`word_embeddings.weight`, `LayerNorm.bias`, …).
public final class BertEmbeddings: Module {
    /// `[vocabulary, hidden]`.
    public let words: Embedding
    /// `[maxPositions, hidden]`.
    public let positions: Embedding
    /// `[typeVocabulary, hidden]`; every token is of type 0 here (single-segment inputs).
    public let tokenTypes: Embedding
    /// LayerNorm of the sum.
    public let norm: LayerNorm
    /// Dropout after the LayerNorm.
    public let dropout: Dropout
    /// Training (dropout active) or evaluation.
    public var isTraining = true

    /// The embeddings of `architecture`, initialised `N(0, initializerRange)` as BERT does.
    public init(_ architecture: BertArchitecture, initializerRange: Float = 0.02, device: Device? = nil,
                generator: RandomGenerator? = nil) throws {
        let initializer = Initializer.bert(range: initializerRange)
        let hidden = architecture.hiddenSize
        words = try Embedding(vocabulary: architecture.vocabularySize, dimension: hidden, initializer: initializer,
                              device: device, generator: generator)
        positions = try Embedding(vocabulary: architecture.maxPositions, dimension: hidden, initializer: initializer,
                                  device: device, generator: generator)
        tokenTypes = try Embedding(vocabulary: architecture.typeVocabularySize, dimension: hidden,
                                   initializer: initializer, device: device, generator: generator)
        norm = try LayerNorm(hidden, epsilon: architecture.layerNormEpsilon, device: device)
        dropout = try Dropout(architecture.hiddenDropout, generator: generator)
    }

    /// The tables and the LayerNorm under Hugging Face's names.
    public var children: [(name: String, module: any Module)] {
        [("word_embeddings", words), ("position_embeddings", positions), ("token_type_embeddings", tokenTypes),
         ("LayerNorm", norm), ("dropout", dropout)]
    }

    /// The embedded sequence `[batch, length, hidden]` of `int32` token ids `[batch, length]`.
    public func callAsFunction(_ ids: Tensor) throws -> Tensor {
        guard ids.rank == 2 else {
            throw CortadoError.shapeMismatch("BertEmbeddings: token ids must be [batch, length], got \(ids.shape)")
        }
        let length = ids.shape[1]
        let maxPositions = positions.weight.value.shape[0]
        guard length <= maxPositions else {
            throw CortadoError.invalidArgument(
                "BertEmbeddings: \(length) tokens exceed the model's \(maxPositions) positions; truncate the text")
        }
        let positionRows = try positions.weight.value.sliced(axis: 0, 0..<length).inComputeType()  // [length, hidden]
        let typeRow = try tokenTypes.weight.value.sliced(axis: 0, 0..<1).inComputeType()            // [1, hidden]
        let summed = try words(ids) + (positionRows + typeRow)
        return try dropout(norm(summed))
    }
}
