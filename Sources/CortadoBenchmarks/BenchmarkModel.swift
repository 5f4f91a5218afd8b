import CortadoTraining

/// A model the model suite of `cortado bench` can time: a built-in trainable model, or the
/// all-MiniLM-L6-v2 encoder architecture.
public enum BenchmarkModel: Sendable, Equatable {
    /// One of the models `cortado train` builds.
    case builtin(BuiltinModel)
    /// The all-MiniLM-L6-v2 architecture (random weights: timing does not need the real ones).
    case minilm

    /// The model named `name` (`cnn`, `lstm`, …, `minilm`), or `nil`. `bert-classifier` is not one:
    /// it needs its pretrained encoder; `minilm` times that encoder's architecture.
    public init?(name: String) {
        if name == "minilm" {
            self = .minilm
        } else if let model = BuiltinModel(rawValue: name), !model.readsWordPieces {
            self = .builtin(model)
        } else {
            return nil
        }
    }

    /// This model's name, as ``init(name:)`` accepts it.
    public var name: String {
        switch self {
        case let .builtin(model): return model.rawValue
        case .minilm: return "minilm"
        }
    }

    /// The names accepted by ``init(name:)``.
    public static var names: [String] {
        BuiltinModel.allCases.filter { !$0.readsWordPieces }.map(\.rawValue) + ["minilm"]
    }

    /// The suite's cases for this model at `batchSize`.
    public func cases(batchSize: Int) throws -> [BenchmarkCase] {
        switch self {
        case let .builtin(model): return try ModelBenchmarks.cases(model, batchSize: batchSize)
        case .minilm: return try TransformerBenchmarks.miniLM(batchSize: batchSize)
        }
    }
}
