/// Knowledge distillation (Hinton, Vinyals and Dean, "Distilling the Knowledge in a Neural
/// Network", 2015): while a model trains, it also learns a teacher's outputs on the same batch.
///
/// The training loss becomes `(1 − weight) · loss + weight · soft`, where for classification `soft`
/// is `T² · KL(softmax(teacher / T) ‖ softmax(student / T))` averaged over the batch (the `T²`
/// keeps its gradients on the scale of the hard loss's), for binary classification the same with
/// sigmoids, and for regression the mean squared difference to the teacher's outputs. The teacher
/// runs in evaluation mode without gradients; evaluations of the student use its own loss only.
/// `cortado prune --fine-tune N --distill` uses the dense model as the teacher of the pruned one.
public struct Distillation {
    /// The model whose outputs the trained model learns (on the trainer's device, same inputs and outputs).
    public let teacher: any Module
    /// The temperature and the weight of the teacher's term.
    public var settings: Settings

    /// Distillation from `teacher` with `settings`' temperature and weight.
    public init(teacher: any Module, settings: Settings = Settings()) {
        self.teacher = teacher
        self.settings = settings
    }

    /// Distillation from `teacher` at `temperature`, its term weighted `weight`.
    public init(teacher: any Module, temperature: Float, weight: Float) {
        self.init(teacher: teacher, settings: Settings(temperature: temperature, weight: weight))
    }

    /// A distillation's temperature and weight, without its teacher (what a command is asked for).
    public struct Settings: Sendable, Equatable {
        /// The softening temperature `T` (> 0; 1 leaves the outputs as they are).
        public var temperature: Float
        /// The share of the teacher's term in the loss, in [0, 1] (1: the labels are not used).
        public var weight: Float

        /// Settings with `temperature` and `weight` (Hinton et al.'s usual `T` = 2 and an even blend by default).
        public init(temperature: Float = 2, weight: Float = 0.5) {
            self.temperature = temperature
            self.weight = weight
        }

        /// Throws ``TrainingError/invalidOption(_:)`` naming the flag for a temperature that is not
        /// a number in (0, 100] or a weight outside [0, 1].
        public func validate() throws {
            guard temperature.isFinite, temperature > 0, temperature <= 100 else {
                throw TrainingError.invalidOption("--temperature must be a number in (0, 100], not \(temperature)")
            }
            guard weight.isFinite, weight >= 0, weight <= 1 else {
                throw TrainingError.invalidOption("--distill-weight must be a number in [0, 1], not \(weight)")
            }
        }
    }

    /// The distilled loss of a batch: `hard` (the loss against the labels) blended with the soft
    /// term between the student's `output` and `teacherOutput` (the teacher's, same shape).
    func loss(hard: Tensor, output: Tensor, teacherOutput: Tensor, task: Task) throws -> Tensor {
        guard teacherOutput.shape == output.shape else {
            throw TrainingError.incompatibleData("distillation: the teacher's outputs \(teacherOutput.shape) do not match the model's \(output.shape)")
        }
        let (temperature, weight) = (settings.temperature, settings.weight)
        let student = try output.to(dtype: .float32), teacher = try teacherOutput.to(dtype: .float32).detached()
        let soft: Tensor
        switch task {
        case .classification:
            let logQ = try (student * (1 / temperature)).logSoftmax(axis: 1)
            let logP = try (teacher * (1 / temperature)).logSoftmax(axis: 1)
            let perRow = try (logP.exp() * (logP - logQ)).sum(axes: [1])
            soft = try perRow.mean() * (temperature * temperature)
        case .binaryClassification:
            let softened = try teacher * (1 / temperature), targets = try softened.sigmoid()
            let entropy = try Losses.binaryCrossEntropy(logits: softened, targets: targets)
            soft = try (Losses.binaryCrossEntropy(logits: student * (1 / temperature), targets: targets) - entropy)
                * (temperature * temperature)
        case .regression:
            soft = try Losses.meanSquaredError(student, teacher)
        }
        return try hard * (1 - weight) + soft * weight
    }
}
