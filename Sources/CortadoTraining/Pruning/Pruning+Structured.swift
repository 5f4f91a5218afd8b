import Foundation

/// A set of interchangeable units of a model (the output channels of one convolution, the hidden
/// units of one layer, one block's attention heads) and every tensor slice that belongs to them.
struct UnitGroup {
    /// What the units are, for the record.
    let name: String
    /// Units before pruning.
    let count: Int
    /// Tensors whose rows hold the units' incoming weights (in `gates` blocks): they rank the units.
    let ranked: [(tensor: String, gates: Int)]
    /// Tensors whose rows belong to the units (weights and biases), in `gates` blocks.
    let rows: [(tensor: String, gates: Int)]
    /// Tensors whose columns (in `count` equal blocks) read the units' outputs.
    let columns: [String]
}

/// Where structured pruning can cut a model, and what stays dense.
struct StructuredLayout {
    /// The groups, in the order of ``BuiltinModel/defaultWidths`` for the built-in models.
    let groups: [UnitGroup]
    /// The parts left dense, in words.
    let dense: [String]

    /// The layout of a model of `configuration` (built-in model widths `widths`).
    init(_ configuration: CheckpointConfiguration) throws {
        let w = configuration.widths ?? configuration.model.defaultWidths
        func layer(_ name: String, _ index: Int, count: Int, next: String) -> UnitGroup {
            UnitGroup(name: name, count: count, ranked: [("\(index).weight", 1)],
                      rows: [("\(index).weight", 1), ("\(index).bias", 1)], columns: [next])
        }
        func recurrent(_ index: Int, count: Int, next: String, gru: Bool) -> UnitGroup {
            let gates = gru ? 3 : 4
            let biases = gru ? [("\(index).bias_ih", gates), ("\(index).bias_hh", gates)] : [("\(index).bias", gates)]
            return UnitGroup(
                name: "\(index): \(gru ? "GRU" : "LSTM") units", count: count,
                ranked: [("\(index).weight_ih", gates), ("\(index).weight_hh", gates)],
                rows: [("\(index).weight_ih", gates), ("\(index).weight_hh", gates)] + biases,
                columns: ["\(index).weight_hh", next])
        }
        switch configuration.model {
        case .linear:
            throw TrainingError.invalidOption("the linear model has no hidden units to remove: prune it without --structured")
        case .mlp:
            groups = [layer("1: hidden units", 1, count: w[0], next: "3.weight")]
            dense = ["the output layer 3 (one unit per output)"]
        case .cnn:
            groups = [layer("0: convolution channels", 0, count: w[0], next: "4.weight"),
                      layer("4: hidden units", 4, count: w[1], next: "6.weight")]
            dense = ["the convolution's input channels (the image's)", "the output layer 6 (one unit per output)"]
        case .lenet:
            groups = [layer("0: convolution channels", 0, count: w[0], next: "2.weight"),
                      layer("2: convolution channels", 2, count: w[1], next: "5.weight"),
                      layer("5: hidden units", 5, count: w[2], next: "7.weight")]
            dense = ["the first convolution's input channels (the image's)", "the output layer 7 (one unit per output)"]
        case .lstm, .gru:
            let gru = configuration.model == .gru
            groups = [recurrent(1, count: w[0], next: "3.weight_ih", gru: gru), recurrent(3, count: w[1], next: "5.weight", gru: gru)]
            dense = ["the embedding 0 (its 128 dimensions feed the first recurrent layer)", "the output layer 5 (one unit per output)"]
        case .bertClassifier:
            guard let architecture = configuration.bert?.architecture else {
                throw TrainingError.invalidOption("the bert-classifier checkpoint records no BERT architecture")
            }
            var groups: [UnitGroup] = []
            for index in 0..<architecture.layerCount {
                let p = "encoder.layer.\(index)."
                let projections = ["query", "key", "value"].map { "\(p)attention.self.\($0)" }
                groups.append(UnitGroup(
                    name: "\(p.dropLast()): attention heads", count: architecture.attentionHeads,
                    ranked: projections.map { ("\($0).weight", 1) },
                    rows: projections.flatMap { [("\($0).weight", 1), ("\($0).bias", 1)] },
                    columns: ["\(p)attention.output.dense.weight"]))
                groups.append(UnitGroup(
                    name: "\(p.dropLast()): feed-forward rows", count: architecture.intermediateSize,
                    ranked: [("\(p)intermediate.dense.weight", 1)],
                    rows: [("\(p)intermediate.dense.weight", 1), ("\(p)intermediate.dense.bias", 1)],
                    columns: ["\(p)output.dense.weight"]))
            }
            self.groups = groups
            dense = ["the embeddings and the hidden size \(architecture.hiddenSize) (the residual stream and its LayerNorms)",
                     "the attention output and feed-forward output rows (hidden-wide)", "the classifier"]
        }
    }
}

extension Pruning {
    /// Removes `sparsity` of the units of every group of `model` (built as `configuration` says):
    /// the convolution channels and hidden units of cnn, lenet and mlp, the units of lstm and gru
    /// layers (all gate rows of a unit and its recurrent columns), and in each block of a
    /// bert-classifier the attention heads (query, key and value rows, output-projection columns)
    /// and feed-forward rows (intermediate rows, output columns). In every group it keeps the
    /// ``keptUnits(of:sparsity:)`` units whose incoming weights have the largest `norm`, ranked on
    /// the unpruned weights, and cuts the next layer's matching inputs.
    ///
    /// - Returns: the model re-packed dense on `device` with the smaller configuration (its
    ///   ``CheckpointConfiguration/widths`` or BERT architecture changed, steps and optimizer state
    ///   reset), and the groups before and after, what stays dense and the parameter counts.
    /// - Throws: ``TrainingError/invalidOption(_:)`` for a sparsity outside [0, 1) or a model
    ///   without units to remove (linear); `CortadoError` when a tensor does not fit the layout.
    public static func structured(
        _ model: any Module, configuration: CheckpointConfiguration, sparsity: Double, norm: PruningNorm = .l1,
        device: Device = .cpu
    ) throws -> (model: any Module, configuration: CheckpointConfiguration, record: PruningRecord) {
        guard norm != .taylor else {
            throw TrainingError.invalidOption("--norm taylor needs the training data: use structured(_:configuration:sparsity:importance:device:)")
        }
        return try structured(model, configuration: configuration, sparsity: sparsity, norm: norm, importance: nil, device: device)
    }

    /// ``structured(_:configuration:sparsity:norm:device:)`` ranking the units by `importance` (one
    /// score per unit, per group of the model's layout, as ``taylorImportance(of:configuration:batches:loss:)``
    /// returns) instead of by a norm of their weights; the record names the Taylor criterion.
    public static func structured(
        _ model: any Module, configuration: CheckpointConfiguration, sparsity: Double, importance: [[Double]], device: Device = .cpu
    ) throws -> (model: any Module, configuration: CheckpointConfiguration, record: PruningRecord) {
        try structured(model, configuration: configuration, sparsity: sparsity, norm: .taylor, importance: importance, device: device)
    }

    /// The first-order Taylor importance of every unit of every group of `model` (see
    /// ``PruningNorm/taylor``): for each batch, `loss` gives its loss, the backward pass the
    /// gradients, and each unit scores `|Σ W ⊙ ∂L/∂W|` over the columns that read it (summed over
    /// those tensors first), added up over the batches. The model's gradients are cleared after.
    public static func taylorImportance(
        of model: any Module, configuration: CheckpointConfiguration, batches: some Sequence<Batch>, loss: (Batch) throws -> Tensor
    ) throws -> [[Double]] {
        let layout = try StructuredLayout(configuration)
        let parameters = Dictionary(model.namedParameters().map { ($0.name, $0.parameter) }, uniquingKeysWith: { first, _ in first })
        // The weights do not change between batches: read back once; the gradients every batch.
        var values: [String: (parameter: Parameter, host: HostTensor)] = [:]
        for name in Set(layout.groups.flatMap(\.columns)) {
            guard let parameter = parameters[name] else {
                throw CortadoError.invalidArgument("pruning: the \(configuration.model.rawValue) model has no tensor '\(name)'")
            }
            values[name] = (parameter, HostTensor(shape: parameter.value.shape, values: try parameter.value.to(dtype: .float32).toArray()))
        }
        var scores = layout.groups.map { [Double](repeating: 0, count: $0.count) }
        defer { model.zeroGrad() }
        for batch in batches {
            model.zeroGrad()
            try loss(batch).backward()
            var gradients: [String: HostTensor] = [:]
            for (name, (parameter, host)) in values {
                let gradient = try parameter.value.grad.map { try $0.to(dtype: .float32).toArray() }
                gradients[name] = HostTensor(shape: host.shape, values: gradient ?? [Float](repeating: 0, count: host.values.count))
            }
            for (index, group) in layout.groups.enumerated() {
                var sums = [Double](repeating: 0, count: group.count)
                for name in group.columns {
                    guard let value = values[name]?.host, let gradient = gradients[name] else { continue }
                    for (unit, sum) in try value.columnTaylorSums(name, gradient: gradient, count: group.count).enumerated() { sums[unit] += sum }
                }
                for unit in sums.indices { scores[index][unit] += abs(sums[unit]) }
            }
        }
        return scores
    }

    private static func structured(
        _ model: any Module, configuration: CheckpointConfiguration, sparsity: Double, norm: PruningNorm, importance: [[Double]]?,
        device: Device
    ) throws -> (model: any Module, configuration: CheckpointConfiguration, record: PruningRecord) {
        try PruningOptions(sparsity: sparsity).validate()
        let layout = try StructuredLayout(configuration)
        if let importance, importance.map(\.count) != layout.groups.map(\.count) {
            throw CortadoError.shapeMismatch("pruning: importance for groups of \(importance.map(\.count)) units, the model has \(layout.groups.map(\.count))")
        }
        var tensors: [String: HostTensor] = [:]
        for (name, parameter) in model.namedParameters() {
            tensors[name] = HostTensor(shape: parameter.value.shape, values: try parameter.value.to(dtype: .float32).toArray())
        }
        func tensor(_ name: String) throws -> HostTensor {
            guard let found = tensors[name] else {
                throw CortadoError.invalidArgument("pruning: the \(configuration.model.rawValue) model has no tensor '\(name)'")
            }
            return found
        }
        // Rank every group on the unpruned weights first, so that the order of the cuts does not matter.
        var kept: [[Int]] = []
        for (index, group) in layout.groups.enumerated() {
            if let importance {
                kept.append(strongest(importance[index], keep: keptUnits(of: group.count, sparsity: sparsity)))
                continue
            }
            var scores = [Double](repeating: 0, count: group.count)
            for (name, gates) in group.ranked {
                let sums = try tensor(name).unitSums(name, count: group.count, gates: gates, norm: norm)
                for unit in scores.indices { scores[unit] += sums[unit] }
            }
            kept.append(strongest(scores, keep: keptUnits(of: group.count, sparsity: sparsity)))
        }
        for (group, units) in zip(layout.groups, kept) {
            for (name, gates) in group.rows { tensors[name] = try tensor(name).keepingRows(name, units, count: group.count, gates: gates) }
            for name in group.columns { tensors[name] = try tensor(name).keepingColumns(name, units, count: group.count) }
        }
        var pruned = configuration
        pruned.steps = 0
        pruned.epochsCompleted = 0
        pruned.stepsIntoEpoch = nil
        if configuration.model.readsWordPieces, var bert = configuration.bert {
            let (heads, rows) = (kept.first?.count ?? bert.architecture.attentionHeads, kept.count > 1 ? kept[1].count : bert.architecture.intermediateSize)
            bert.architecture.attentionHeadSize = bert.architecture.headSize
            bert.architecture.attentionHeads = heads
            bert.architecture.intermediateSize = rows
            pruned.bert = bert
        } else {
            pruned.widths = kept.map(\.count)
        }
        let result = try ModelCheckpoint.makeModel(for: pruned, device: device)
        try result.loadState(tensors.mapValues { try Tensor($0.values, shape: $0.shape, device: device) })
        let record = PruningRecord(
            method: "structured", sparsity: sparsity, norm: norm,
            groups: zip(layout.groups, kept).map { PruningRecord.Group(name: $0.name, before: $0.count, after: $1.count) },
            prunedWeights: [], dense: layout.dense, parametersBefore: model.parameterCount, parametersAfter: result.parameterCount,
            zeroWeights: 0, prunableWeights: 0, fineTuneEpochs: 0)
        return (result, pruned, record)
    }
}
