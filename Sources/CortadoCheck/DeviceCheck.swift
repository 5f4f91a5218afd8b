import Cortado
import Foundation

/// Runs the cross-backend table (``OpCheckTable``) on one device against the CPU backend: the
/// library side of `cortado check`, the first thing to run on a new GPU or driver.
///
/// ```swift
/// let report = try DeviceCheck(device: Device("opencl"), quick: true).run()
/// print(report.passed ? "ok" : "differs: \(report.failures.map(\.op))")
/// ```
public struct DeviceCheck: Sendable {
    /// One case in one element type.
    public struct Entry: Sendable {
        /// The case.
        public let op: OpCheckCase
        /// The element type it runs in.
        public let dtype: DType
    }

    /// The device checked.
    public let device: Device
    /// What runs, in order.
    public let entries: [Entry]

    /// - Parameters:
    ///   - device: an OpenCL device (the CPU backend is the reference).
    ///   - quick: only the cases marked quick (``OpCheckTable/quickCases``).
    ///   - names: when not empty, only the cases whose name contains one of these (ignoring case).
    /// - Throws: ``CortadoError/invalidArgument(_:)`` for the CPU itself, or names that match no case.
    public init(device: Device, quick: Bool = false, matching names: [String] = []) throws {
        guard device.kind != .cpu else {
            throw CortadoError.invalidArgument(
                "check compares a device with the CPU backend, so it needs an OpenCL device, not cpu "
                    + "(`cortado devices` lists them)")
        }
        var cases = quick ? OpCheckTable.quickCases : OpCheckTable.cases
        if !names.isEmpty {
            let wanted = names.map { $0.lowercased() }
            cases = cases.filter { op in wanted.contains { op.name.lowercased().contains($0) } }
            guard !cases.isEmpty else {
                let known = (quick ? OpCheckTable.quickCases : OpCheckTable.cases).map { "'\($0.name)'" }.joined(separator: ", ")
                throw CortadoError.invalidArgument(
                    "no case of the \(quick ? "quick " : "")check table is named like \(names.joined(separator: ", ")); "
                        + "the cases are: \(known)")
            }
        }
        self.device = device
        self.entries = cases.flatMap { op in op.dtypes.map { Entry(op: op, dtype: $0) } }
    }

    /// Runs every entry, calling `progress` after each (index from 1, count, result). An entry that
    /// throws is a failure carrying the error's message, and the check goes on with the next.
    public func run(progress: (Int, Int, OpCheckResult) -> Void = { _, _, _ in }) -> DeviceCheckReport {
        let started = DispatchTime.now()
        let builds = { (try? device.compileStatistics.sourceSeconds) ?? 0 }
        let buildsBefore = builds()
        var results: [OpCheckResult] = []
        for (index, entry) in entries.enumerated() {
            let result = Self.check(entry, on: device)
            results.append(result)
            progress(index + 1, entries.count, result)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        return DeviceCheckReport(
            device: device.id, results: results, seconds: seconds, buildSeconds: max(0, builds() - buildsBefore))
    }

    /// Checks one entry.
    public static func check(_ entry: Entry, on device: Device) -> OpCheckResult {
        let tolerance = CheckTolerance.betweenBackends(entry.dtype)
        var result = OpCheckResult(
            op: entry.op.name, dtype: entry.dtype.rawValue, shapes: entry.op.shapeDescription, tolerance: tolerance)
        do {
            let comparison = try entry.op.compare(on: device, in: entry.dtype)
            let output = comparison.output
            let gradients = comparison.gradients
            result.outputError = output.maxError
            result.gradientError = gradients.map(\.maxError).max() ?? 0
            result.referenceSeconds = comparison.reference.seconds
            result.deviceSeconds = comparison.candidate.seconds
            var problems = comparison.typeProblems
            if !output.passed { problems.append("output: \(output.mismatches) of \(output.count) differ (\(output.examples.joined(separator: ", ")))") }
            for (index, gradient) in gradients.enumerated() where !gradient.passed {
                problems.append("∂/∂input\(index): \(gradient.mismatches) of \(gradient.count) differ (\(gradient.examples.joined(separator: ", ")))")
            }
            result.status = problems.isEmpty ? .passed : .failed
            result.problem = problems.isEmpty ? nil : problems.joined(separator: "; ")
        } catch let CortadoError.unsupportedDType(_, dtype, _, _) where dtype == entry.dtype {
            result.status = .skipped
            result.problem = "\(entry.dtype) is not supported on \(device.id)"
        } catch {
            result.status = .failed
            result.problem = "\(error)"
        }
        return result
    }
}

/// One row of a check: a case in one element type, its largest errors against the CPU backend,
/// the tolerance, the verdict and the time on each device.
public struct OpCheckResult: Sendable, Codable, Equatable {
    /// Whether the row passed.
    public enum Status: String, Sendable, Codable {
        /// Output and gradients within the tolerance.
        case passed
        /// A value outside the tolerance, a wrong element type, or an error.
        case failed
        /// The device does not run the case in this element type.
        case skipped
    }

    /// The case's name.
    public var op: String
    /// The element type (`float32`, `float16`, `bfloat16`).
    public var dtype: String
    /// The input shapes (`33×17, 17`).
    public var shapes: String
    /// The output's largest absolute difference from the CPU backend's (`nil` when it did not run).
    public var outputError: Float?
    /// The largest absolute difference of any input gradient (`nil` when it did not run).
    public var gradientError: Float?
    /// The tolerance applied.
    public var tolerance: CheckTolerance
    /// The verdict.
    public var status: Status = .failed
    /// What went wrong: the differing elements, or the error thrown.
    public var problem: String?
    /// Seconds on the CPU backend (forward, backward, read back).
    public var referenceSeconds: Double?
    /// Seconds on the checked device.
    public var deviceSeconds: Double?

    /// A row for `op` in `dtype` that has not run yet.
    public init(op: String, dtype: String, shapes: String, tolerance: CheckTolerance) {
        self.op = op
        self.dtype = dtype
        self.shapes = shapes
        self.tolerance = tolerance
    }

    /// Encodes a non-finite error as `null` (JSON has no infinity).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(op, forKey: .op)
        try container.encode(dtype, forKey: .dtype)
        try container.encode(shapes, forKey: .shapes)
        try container.encode(outputError.flatMap { $0.isFinite ? $0 : nil }, forKey: .outputError)
        try container.encode(gradientError.flatMap { $0.isFinite ? $0 : nil }, forKey: .gradientError)
        try container.encode(tolerance, forKey: .tolerance)
        try container.encode(status, forKey: .status)
        try container.encode(problem, forKey: .problem)
        try container.encode(referenceSeconds, forKey: .referenceSeconds)
        try container.encode(deviceSeconds, forKey: .deviceSeconds)
    }
}

/// The rows of a check and its verdict.
public struct DeviceCheckReport: Sendable, Codable, Equatable {
    /// The device checked (`opencl:0`).
    public var device: String
    /// One row per case and element type, in table order.
    public var results: [OpCheckResult]
    /// Wall time of the whole check.
    public var seconds: Double
    /// The part of it spent building the device's programs (`clBuildProgram`): large on the first
    /// run with a driver, small once the driver's or Cortado's cache has them. (Some drivers, PoCL
    /// among them, also compile each kernel at its first launch, which this does not count.)
    public var buildSeconds: Double

    /// The rows that failed.
    public var failures: [OpCheckResult] { results.filter { $0.status == .failed } }
    /// Whether no row failed.
    public var passed: Bool { failures.isEmpty }
}
