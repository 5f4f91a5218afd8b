import Cortado
import Foundation

/// One operation of the cross-backend table: its input shapes and value range, the element types it
/// runs in, and the computation (forward; the gradient comes from autograd).
///
/// The same case runs on every backend from the same inputs (see ``CheckInputs``), so a device's
/// results and gradients can be compared with the CPU backend's (`cortado check`, and the test suite).
public struct OpCheckCase: Sendable {
    /// The name printed in reports (`softmax`, `conv2d`, …).
    public let name: String
    /// The shape of each input.
    public let shapes: [[Int]]
    /// The inputs' smallest value.
    public let low: Float
    /// The inputs' largest value (exclusive).
    public let high: Float
    /// The element types the case runs in: float32, and float16 and bfloat16 where the op has them.
    public let dtypes: [DType]
    /// Whether `cortado check --quick` runs the case (a sample of every kind of op at small sizes).
    public let quick: Bool
    /// Computes the output from the inputs (each already on the device and requiring a gradient).
    public let apply: @Sendable ([Tensor]) throws -> Tensor

    /// - Parameters:
    ///   - name: the name printed in reports.
    ///   - shapes: each input's shape.
    ///   - low: the inputs' smallest value.
    ///   - high: the inputs' largest value (exclusive).
    ///   - halves: whether the op also runs in float16 and bfloat16 storage.
    ///   - quick: whether `cortado check --quick` runs it.
    ///   - apply: the computation.
    public init(
        _ name: String, _ shapes: [[Int]], low: Float = -2, high: Float = 2, halves: Bool = false, quick: Bool = false,
        _ apply: @escaping @Sendable ([Tensor]) throws -> Tensor
    ) {
        self.name = name
        self.shapes = shapes
        self.low = low
        self.high = high
        self.dtypes = halves ? [.float32, .float16, .bfloat16] : [.float32]
        self.quick = quick
        self.apply = apply
    }

    /// The input shapes as `33×17, 17`.
    public var shapeDescription: String {
        shapes.map { $0.map(String.init).joined(separator: "×") }.joined(separator: ", ")
    }

    /// Runs the case on `device` with its inputs stored in `dtype`, returning the output and each
    /// input's gradient of `sum(output · w)` (fixed weights `w`) as floats.
    ///
    /// - Parameters:
    ///   - device: where to run.
    ///   - dtype: the storage type of the inputs (and so of the output and gradients).
    ///   - rounding: the type the input and weight values are first rounded to (by default `dtype`): a
    ///     float32 run with `rounding` a 16-bit type sees the same values as the 16-bit run.
    public func run(on device: Device, in dtype: DType, roundedTo rounding: DType? = nil) throws -> OpCheckRun {
        let rounding = rounding ?? dtype
        let started = DispatchTime.now()
        let inputs = try shapes.enumerated().map { index, shape in
            let values = try CheckInputs.rounded(
                CheckInputs.values(shape.reduce(1, *), seed: UInt64(100 + index), low: low, high: high), to: rounding)
            return try Tensor(values, shape: shape, dtype: dtype, device: device).requiringGrad()
        }
        let output = try apply(inputs)
        // The same (rounded) weights in every run, so only the op's own rounding differs.
        let weightValues = try CheckInputs.rounded(CheckInputs.values(output.count, seed: 7), to: rounding)
        let weights = try Tensor(weightValues, shape: output.shape, dtype: dtype, device: device)
        try (output * weights).sum().backward()
        let outputValues = try output.toArray()
        let gradients = try inputs.map { try $0.grad?.toArray() ?? [] }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        return OpCheckRun(
            output: outputValues, outputDType: output.dtype, gradients: gradients,
            gradientDTypes: inputs.map { $0.grad?.dtype }, seconds: seconds)
    }

    /// Runs the case in `dtype` on the CPU backend and on `device`, and compares the two with the
    /// tolerance between backends for `dtype` (``CheckTolerance/betweenBackends(_:)``).
    public func compare(on device: Device, in dtype: DType) throws -> OpCheckComparison {
        let reference = try run(on: .cpu, in: dtype)
        let candidate = try run(on: device, in: dtype)
        return OpCheckComparison(
            reference: reference, candidate: candidate, dtype: dtype, tolerance: .betweenBackends(dtype))
    }
}

/// One run of an ``OpCheckCase``: the output and input gradients as floats, and how long it took.
public struct OpCheckRun: Sendable {
    /// The output's values.
    public var output: [Float]
    /// The output's element type (it should be the inputs').
    public var outputDType: DType
    /// Each input's gradient (empty for an input that received none).
    public var gradients: [[Float]]
    /// Each input gradient's element type (`nil` for none).
    public var gradientDTypes: [DType?]
    /// Wall time of the forward pass, the backward pass and reading the results back, in seconds.
    public var seconds: Double
}

/// A case run on the CPU backend (the reference) and on a device, compared element by element.
public struct OpCheckComparison: Sendable {
    /// The CPU backend's run.
    public var reference: OpCheckRun
    /// The checked device's run.
    public var candidate: OpCheckRun
    /// The element type both ran in.
    public var dtype: DType
    /// The tolerance applied.
    public var tolerance: CheckTolerance

    /// The output's difference.
    public var output: CheckDifference {
        CheckDifference(candidate.output, reference.output, tolerance: tolerance)
    }

    /// Each input gradient's difference.
    public var gradients: [CheckDifference] {
        candidate.gradients.indices.map { index in
            CheckDifference(candidate.gradients[index], reference.gradients[index], tolerance: tolerance)
        }
    }

    /// Problems other than values: an output or gradient in another element type than the inputs'.
    public var typeProblems: [String] {
        var problems: [String] = []
        if candidate.outputDType != dtype { problems.append("output in \(candidate.outputDType)") }
        for (index, type) in candidate.gradientDTypes.enumerated() {
            if let type, type != dtype { problems.append("∂/∂input\(index) in \(type)") }
        }
        return problems
    }

    /// Whether the output and every gradient agree within the tolerance, in the right element type.
    public var passed: Bool {
        output.passed && gradients.allSatisfy(\.passed) && typeProblems.isEmpty
    }
}
