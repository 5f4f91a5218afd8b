import CortadoTraining

/// The model suite's cases for a BERT-family encoder: each block's forward and backward pass at
/// fine-tuning shapes, a whole training step, and sentence embeddings per second.
public enum TransformerBenchmarks {
    /// all-MiniLM-L6-v2's sizes: 6 blocks of hidden size 384, 12 heads, feed-forward 1536.
    public static let miniLMArchitecture = BertArchitecture(
        vocabularySize: 30_522, hiddenSize: 384, layerCount: 6, attentionHeads: 12, intermediateSize: 1_536,
        maxPositions: 512, typeVocabularySize: 2, layerNormEpsilon: 1e-12)

    /// Tokens per text in the block and training cases: the fine-tuning maximum length.
    public static let trainingLength = 64
    /// Tokens per text in the embedding case, about the average movie-snippets text in word pieces.
    public static let embeddingLength = 32
    /// Texts per batch in the embedding case, as sentence-transformers' `encode`.
    public static let embeddingBatch = 64

    /// The cases for all-MiniLM-L6-v2 with random weights, `batchSize` texts per training batch.
    public static func miniLM(batchSize: Int) throws -> [BenchmarkCase] {
        let architecture = miniLMArchitecture
        let name = "minilm"
        @Sendable func ids(_ batch: Int, _ length: Int, _ device: Device) throws -> Tensor {
            let generator = RandomGenerator(seed: 6)
            return try Tensor(indices: (0..<(batch * length)).map { _ in Int32(1_000 + generator.nextInt(below: 20_000)) },
                              shape: [batch, length], device: device)
        }
        /// A mask with the last quarter of every other text padded.
        @Sendable func mask(_ batch: Int, _ length: Int, _ device: Device) throws -> Tensor {
            let values = (0..<(batch * length)).map { i -> Float in
                let (row, column) = (i / length, i % length)
                return row % 2 == 1 && column >= length * 3 / 4 ? 0 : 1
            }
            return try Tensor(values, shape: [batch, length], device: device)
        }
        let hiddenShape = [batchSize, trainingLength, architecture.hiddenSize]
        var cases: [BenchmarkCase] = []
        cases.append(BenchmarkCase("\(name)[embeddings] forward", group: "\(name) layers", work: .none) { device in
            let embeddings = try BertEmbeddings(architecture, device: device, generator: RandomGenerator(seed: 7))
            let x = try ids(batchSize, trainingLength, device)
            return { _ = try embeddings(x) }
        })
        // The six blocks are alike: one stands for each.
        cases.append(BenchmarkCase("\(name)[block] forward", group: "\(name) layers", work: .none) { device in
            let block = try TransformerEncoderLayer(architecture, device: device, generator: RandomGenerator(seed: 8))
            let (x, m) = (try Tensor.uniform(hiddenShape, device: device), try mask(batchSize, trainingLength, device))
            return { _ = try block(x, mask: m) }
        })
        cases.append(BenchmarkCase("\(name)[block] backward", group: "\(name) layers", work: .none) { device in
            let block = try TransformerEncoderLayer(architecture, device: device, generator: RandomGenerator(seed: 8))
            let x = try Tensor.uniform(hiddenShape, device: device).requiringGrad()
            let y = try block(x, mask: mask(batchSize, trainingLength, device))
            let dy = try Tensor.uniform(y.shape, device: device).to(dtype: y.dtype)
            return {
                block.zeroGrad()
                x.zeroGrad()
                try y.backward(gradient: dy, retainGraph: true)
            }
        })
        cases.append(BenchmarkCase("\(name) training step, batch \(batchSize)", group: "\(name) step",
                                   work: .samples(batchSize)) { device in
            let encoder = try BertModel(architecture, device: device, generator: RandomGenerator(seed: 9))
            let head = try Linear(architecture.hiddenSize, 1, device: device, generator: RandomGenerator(seed: 10))
            let optimizer = try AdamW(encoder.trainableParameters() + head.trainableParameters(), learningRate: 5e-5)
            let (x, m) = (try ids(batchSize, trainingLength, device), try mask(batchSize, trainingLength, device))
            let targets = try Tensor((0..<batchSize).map { Float($0 % 2) }, shape: [batchSize, 1], device: device)
            return {
                encoder.zeroGrad()
                head.zeroGrad()
                let logits = try head(encoder(x, mask: m).meanPooled(mask: m))
                try Losses.binaryCrossEntropy(logits: logits, targets: targets).backward()
                try optimizer.step()
            }
        })
        cases.append(BenchmarkCase("\(name) embeddings, batch \(embeddingBatch)",
                                   group: "\(name) step", work: .samples(embeddingBatch)) { device in
            let encoder = try BertModel(architecture, device: device, generator: RandomGenerator(seed: 9))
            encoder.eval()
            let (x, m) = (try ids(embeddingBatch, embeddingLength, device), try mask(embeddingBatch, embeddingLength, device))
            return { try withNoGrad { _ = try encoder(x, mask: m).meanPooled(mask: m).l2Normalized() } }
        })
        return cases
    }
}
