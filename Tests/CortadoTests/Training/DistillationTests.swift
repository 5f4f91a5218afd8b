import Foundation
import Testing

@testable import CortadoTraining

/// Knowledge distillation: the blended loss against double-precision references (classification,
/// binary, regression), its gradient against finite differences, and a training step that learns
/// the teacher and not the labels when the weight says so.
@Suite("Knowledge distillation")
struct DistillationTests {
    static let rows = 3, classes = 4
    static let student: [Float] = [0.3, -1.2, 2.0, 0.5, 1.1, 0.0, -0.7, 0.2, -0.4, 0.9, 0.1, -2.2]
    static let teacher: [Float] = [0.1, -0.8, 2.5, 0.0, 2.0, -0.3, -0.1, 0.4, -1.0, 1.5, 0.3, -1.7]
    static let labels: [Int32] = [2, 0, 1]

    /// log-softmax of one row, in Double.
    static func logSoftmax(_ row: ArraySlice<Double>) -> [Double] {
        let top = row.max() ?? 0
        let total = log(row.map { exp($0 - top) }.reduce(0, +)) + top
        return row.map { $0 - total }
    }

    /// `(1 − w)·CE(student, labels) + w·T²·mean KL(p_T ‖ q_T)`, in Double.
    static func reference(_ student: [Double], temperature t: Double, weight w: Double) -> Double {
        var hard = 0.0, soft = 0.0
        for r in 0..<rows {
            let range = (r * classes)..<((r + 1) * classes)
            hard -= logSoftmax(student[range])[Int(labels[r])]
            let logQ = logSoftmax(ArraySlice(student[range].map { $0 / t }))
            let logP = logSoftmax(ArraySlice(teacher[range].map { Double($0) / t }))
            for c in 0..<classes { soft += exp(logP[c]) * (logP[c] - logQ[c]) }
        }
        return (1 - w) * hard / Double(rows) + w * t * t * soft / Double(rows)
    }

    static func dummyTeacher() throws -> any Module { try Linear(1, 1) }

    @Test("classification: (1 − w)·cross-entropy + w·T²·KL of the softened outputs, and its gradient", arguments: TestDevices.all)
    func classification(device: Device) throws {
        let distillation = Distillation(teacher: try Self.dummyTeacher(), temperature: 2.5, weight: 0.3)
        let logits = try Tensor(Self.student, shape: [Self.rows, Self.classes], device: device).requiringGrad()
        let hard = try Losses.crossEntropy(logits: logits, labels: Tensor(indices: Self.labels, shape: [Self.rows], device: device))
        let loss = try distillation.loss(
            hard: hard, output: logits, teacherOutput: Tensor(Self.teacher, shape: [Self.rows, Self.classes], device: device),
            task: .classification)
        let doubles = Self.student.map(Double.init)
        assertClose([try loss.item()], [Float(Self.reference(doubles, temperature: 2.5, weight: 0.3))], rtol: 1e-5, atol: 1e-6, "\(device)")
        try loss.backward()
        let step = 1e-5
        let numeric = doubles.indices.map { i -> Float in
            var up = doubles, down = doubles
            up[i] += step
            down[i] -= step
            return Float((Self.reference(up, temperature: 2.5, weight: 0.3) - Self.reference(down, temperature: 2.5, weight: 0.3)) / (2 * step))
        }
        assertClose(try #require(logits.grad).toArray(), numeric, rtol: 1e-3, atol: 1e-5, "gradient on \(device)")
    }

    @Test("binary classification compares sigmoids; regression the teacher's values; a teacher equal to the student adds nothing",
          arguments: TestDevices.all)
    func otherTasks(device: Device) throws {
        let student: [Float] = [0.4, -1.3, 2.2], teacher: [Float] = [1.0, -0.2, 1.5], t = 3.0, w = 0.6
        let output = try Tensor(student, shape: [3, 1], device: device), teacherOutput = try Tensor(teacher, shape: [3, 1], device: device)
        let hard = try Tensor([0.25], shape: [1], device: device)
        let distillation = Distillation(teacher: try Self.dummyTeacher(), temperature: Float(t), weight: Float(w))
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        var kl = 0.0
        for (s, q) in zip(student, teacher) {
            let p = sigmoid(Double(q) / t), r = sigmoid(Double(s) / t)
            kl += p * log(p / r) + (1 - p) * log((1 - p) / (1 - r))
        }
        let binary = try distillation.loss(hard: hard, output: output, teacherOutput: teacherOutput, task: .binaryClassification)
        assertClose([try binary.item()], [Float((1 - w) * 0.25 + w * t * t * kl / 3)], rtol: 1e-5, atol: 1e-6, "binary")
        let squares = zip(student, teacher).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / 3
        let regression = try distillation.loss(hard: hard, output: output, teacherOutput: teacherOutput, task: .regression)
        assertClose([try regression.item()], [Float((1 - w) * 0.25 + w * squares)], rtol: 1e-5, atol: 1e-6, "regression")
        for task in [Task.classification, .binaryClassification, .regression] {
            let same = try distillation.loss(hard: hard, output: output, teacherOutput: output, task: task)
            assertClose([try same.item()], [Float((1 - w) * 0.25)], rtol: 1e-5, atol: 1e-6, "\(task), teacher = student")
        }
        #expect(throws: TrainingError.self) {
            try distillation.loss(hard: hard, output: output, teacherOutput: Tensor([1, 2], shape: [2, 1], device: device), task: .regression)
        }
    }

    /// A two-layer classifier, its copy, and a batch whose labels disagree with both.
    static func classifier(seed: UInt64) throws -> Sequential {
        let generator = RandomGenerator(seed: seed)
        return Sequential([try Linear(5, 6, generator: generator), ReLU(), try Linear(6, 3, generator: generator)])
    }

    @Test("a training step with weight 1 learns only the teacher (none at all when the teacher is the model); evaluation ignores it",
          arguments: [Device.cpu, TestDevices.openCL])
    func trainingStep(device: Device) throws {
        let features: [Float] = (0..<20).map { Float(($0 * 7) % 11) / 5 - 1 }
        let batch = Batch(inputs: features, inputShape: [4, 5], labels: [0, 1, 2, 0], targets: nil, count: 4, sampleIndices: [0, 1, 2, 3])
        func trainer(teacherSeed: UInt64?, weight: Float) throws -> Trainer {
            let model = try Self.classifier(seed: 4)
            try model.move(to: device)
            let trainer = Trainer(model: model, optimizer: try SGD(model.trainableParameters(), learningRate: 0.5),
                                  schedule: LearningRateSchedule(base: 0.5), task: .classification, device: device)
            if let teacherSeed {
                let teacher = try Self.classifier(seed: teacherSeed)
                try teacher.move(to: device)
                trainer.distillation = Distillation(teacher: teacher, temperature: 2, weight: weight)
            }
            return trainer
        }
        func weights(_ trainer: Trainer) throws -> [Float] {
            try trainer.model.namedParameters().flatMap { try $0.parameter.value.toArray() }
        }
        let before = try weights(trainer(teacherSeed: nil, weight: 0))
        // The teacher is the model itself: the soft term and its gradient are zero.
        let selfTaught = try trainer(teacherSeed: 4, weight: 1)
        try selfTaught.step(on: batch)
        assertClose(try weights(selfTaught), before, rtol: 0, atol: 1e-7, "teacher = model, weight 1")
        // Another teacher moves the weights, and differently from the labels alone.
        let taught = try trainer(teacherSeed: 9, weight: 1), plain = try trainer(teacherSeed: nil, weight: 0)
        try taught.step(on: batch)
        try plain.step(on: batch)
        let moved = zip(try weights(taught), before).map { abs($0 - $1) }.max() ?? 0
        let apart = zip(try weights(taught), try weights(plain)).map { abs($0 - $1) }.max() ?? 0
        #expect(moved > 1e-3 && apart > 1e-3, "moved \(moved), apart from the labels' step \(apart)")
        // Evaluation reports the model's own loss.
        let dataset = try Dataset(features: features, sampleShape: [5], targets: .classes(labels: [0, 1, 2, 0], classCount: 3))
        let evaluated = try taught.evaluate(dataset).loss
        taught.distillation = nil
        #expect(abs(evaluated - (try taught.evaluate(dataset).loss)) < 1e-6)
    }

    @Test("settings out of range are errors naming the flag", arguments: [
        (Float(0), Float(0.5), "--temperature"), (-1, 0.5, "--temperature"), (.nan, 0.5, "--temperature"), (101, 0.5, "--temperature"),
        (2, -0.1, "--distill-weight"), (2, 1.5, "--distill-weight"), (2, .nan, "--distill-weight"),
    ])
    func badSettings(temperature: Float, weight: Float, flag: String) throws {
        var options = PruningOptions(sparsity: 0.3, structured: true, fineTuneEpochs: 1)
        options.distillation = Distillation.Settings(temperature: temperature, weight: weight)
        let error = try #require(throws: TrainingError.self) { try options.validate() }
        #expect("\(error)".contains(flag), "\(error)")
    }

    @Test("distillation without fine-tuning is refused")
    func needsFineTuning() throws {
        var options = PruningOptions(sparsity: 0.3, structured: true)
        options.distillation = Distillation.Settings()
        let error = try #require(throws: TrainingError.self) { try options.validate() }
        #expect("\(error)".contains("--fine-tune"), "\(error)")
        options.fineTuneEpochs = 1
        try options.validate()
    }
}
