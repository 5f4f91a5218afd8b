import Cortado
import CortadoCheck
import Testing

// The table itself lives in the library (CortadoCheck's `OpCheckTable`), so that `cortado check`
// runs exactly what these tests run, with the same tolerances (`CheckTolerance`).

extension OpCheckCase: CustomTestStringConvertible {
    public var testDescription: String { name }
}

/// One op case in one 16-bit element type, for the dtype axis of the cross-backend table.
struct HalfOpCase: Sendable, CustomTestStringConvertible {
    let op: OpCheckCase
    let dtype: DType
    var testDescription: String { "\(op.name) in \(dtype)" }
}

let halfOpCases = OpCheckTable.cases.flatMap { op in op.dtypes.filter { $0 != .float32 }.map { HalfOpCase(op: op, dtype: $0) } }

/// Asserts that `run` matches `reference` within `tolerance`, and that the output and every
/// gradient are in `dtype`.
private func expectMatch(
    _ run: OpCheckRun, _ reference: OpCheckRun, tolerance: CheckTolerance, dtype: DType, _ context: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(run.outputDType == dtype, "\(context): output in \(run.outputDType)", sourceLocation: sourceLocation)
    assertClose(run.output, reference.output, rtol: tolerance.rtol, atol: tolerance.atol, "\(context) output",
                sourceLocation: sourceLocation)
    #expect(run.gradients.count == reference.gradients.count, sourceLocation: sourceLocation)
    for (index, gradient) in run.gradients.enumerated() {
        if let type = run.gradientDTypes[index] {
            #expect(type == dtype, "\(context): gradient \(index) in \(type)", sourceLocation: sourceLocation)
        }
        assertClose(gradient, reference.gradients[index], rtol: tolerance.rtol, atol: tolerance.atol,
                    "\(context) ∂/∂input\(index)", sourceLocation: sourceLocation)
    }
}

@Suite("CPU and OpenCL agree")
struct CrossBackendTests {
    @Test("ops in float16 and bfloat16 storage match float32 on the same inputs, on every backend",
          arguments: halfOpCases, TestDevices.all)
    func halfMatchesFloat32(_ op: HalfOpCase, device: Device) throws {
        let half = try op.op.run(on: device, in: op.dtype)
        let reference = try op.op.run(on: .cpu, in: .float32, roundedTo: op.dtype)
        expectMatch(half, reference, tolerance: .versusFloat32(op.dtype), dtype: op.dtype, op.testDescription)
    }

    @Test("ops in float16 and bfloat16 storage: OpenCL matches the CPU backend", arguments: halfOpCases, TestDevices.openCLVariants)
    func halfOpenCLMatchesCPU(_ op: HalfOpCase, device: Device) throws {
        let comparison = try op.op.compare(on: device, in: op.dtype)
        #expect(comparison.tolerance == .betweenBackends(op.dtype))
        expectMatch(comparison.candidate, comparison.reference, tolerance: comparison.tolerance, dtype: op.dtype,
                    op.testDescription)
        #expect(comparison.passed, "the library's verdict disagrees for \(op.testDescription)")
    }

    @Test("outputs and gradients of OpenCL match the CPU backend", arguments: OpCheckTable.cases, TestDevices.openCLVariants)
    func openCLMatchesCPU(_ op: OpCheckCase, device: Device) throws {
        let comparison = try op.compare(on: device, in: .float32)
        #expect(comparison.tolerance == CheckTolerance(rtol: 1e-4, atol: 1e-5))
        expectMatch(comparison.candidate, comparison.reference, tolerance: comparison.tolerance, dtype: .float32, op.name)
        #expect(comparison.passed, "the library's verdict disagrees for \(op.name)")
    }

    @Test("the table covers every op kind at the sizes it always had, each case in float32 and both 16-bit types")
    func tableIsComplete() {
        #expect(OpCheckTable.cases.count == 36)
        #expect(OpCheckTable.cases.allSatisfy { $0.dtypes == [.float32, .float16, .bfloat16] })
        #expect(Set(OpCheckTable.cases.map(\.name)).count == OpCheckTable.cases.count, "case names must be unique")
        #expect(!OpCheckTable.quickCases.isEmpty && OpCheckTable.quickCases.count < OpCheckTable.cases.count)
    }

    @Test("the tolerances are the ones the suite always used (the library must not loosen them)")
    func tolerancesArePinned() {
        #expect(CheckTolerance.betweenBackends(.float32) == CheckTolerance(rtol: 1e-4, atol: 1e-5))
        #expect(CheckTolerance.betweenBackends(.float16) == CheckTolerance(rtol: 2e-3, atol: 1e-3))
        #expect(CheckTolerance.betweenBackends(.bfloat16) == CheckTolerance(rtol: 1.6e-2, atol: 8e-3))
        #expect(CheckTolerance.versusFloat32(.float16) == CheckTolerance(rtol: 8e-3, atol: 4e-3))
        #expect(CheckTolerance.versusFloat32(.bfloat16) == CheckTolerance(rtol: 6e-2, atol: 3e-2))
    }

    @Test("the inputs are the test fixtures' sequence, so the table runs on the values it always ran on")
    func inputsMatchFixtures() {
        #expect(CheckInputs.values(50, seed: 101, low: 0.5, high: 2) == Fixtures.values(50, seed: 101, low: 0.5, high: 2))
    }
}
