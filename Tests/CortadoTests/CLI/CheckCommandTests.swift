import CortadoCheck
import Foundation
import Testing

@Suite("cortado check")
struct CheckCommandTests {
    @Test("--quick --json: one passing row per quick case and element type, then a passing summary")
    func quickPasses() throws {
        let result = try Cortado.run(["check", "--device", "opencl", "--quick", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = jsonLines(result.stdout)
        let rows = lines.filter { $0["op"] != nil }
        #expect(rows.count == OpCheckTable.quickCases.reduce(0) { $0 + $1.dtypes.count })
        #expect(Set(rows.compactMap { $0["op"] as? String }) == Set(OpCheckTable.quickCases.map(\.name)))
        for row in rows {
            #expect(row["status"] as? String == "passed", "\(row)")
            #expect(row["output_error"] is Double && row["device_seconds"] is Double, "\(row)")
        }
        let summary = try #require(lines.last)
        #expect(summary["passed"] as? Bool == true && summary["device"] as? String == "opencl:0", "\(summary)")
        let seconds = try #require(summary["seconds"] as? Double), builds = try #require(summary["build_seconds"] as? Double)
        #expect(builds >= 0 && builds <= seconds, "\(summary)")
    }

    @Test("a deliberately broken kernel fails the check, naming the op; the other ops pass")
    func brokenKernelFails() throws {
        let result = try Cortado.run(["check", "--op", "softmax", "--op", "matmul"],
                                     environment: ["CORTADO_CL_INJECT": "clEnqueueNDRangeKernel@softmax_forward:skip"])
        expectFailure(result, mentioning: ["differs from the CPU backend", "softmax (float32)"])
        #expect(result.stdout.contains("FAIL softmax in float32"), "\(result.stdout)")
        let matmulRows = result.stdout.split(separator: "\n").filter { $0.hasPrefix("matmul ") }
        #expect(matmulRows.count == 3 && matmulRows.allSatisfy { $0.contains(" ok ") }, "\(result.stdout)")
        #expect(!result.stderr.contains("matmul"), "\(result.stderr)")
    }

    @Test("a refused work-group size falls back with a one-time note, and the check passes")
    func workGroupFallback() throws {
        let result = try Cortado.run(["check", "--op", "softmax"],
                                     environment: ["CORTADO_CL_INJECT": "clEnqueueNDRangeKernel@softmax_forward:-54"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let notes = result.stderr.split(separator: "\n").filter { $0.contains("refused work-group") }
        #expect(notes.count == 1 && notes[0].contains("softmax_forward") && notes[0].contains("driver chooses"), "\(result.stderr)")
    }

    @Test("kernels built for a fixed work-group size, refused once, are rebuilt smaller with a note, and the check passes")
    func fixedWorkGroupFallback() throws {
        let result = try Cortado.run(
            ["check", "--op", "layerNorm", "--op", "sum"],
            environment: ["CORTADO_CL_INJECT":
                "clEnqueueNDRangeKernel@layer_norm_forward:-54*1,clEnqueueNDRangeKernel@reduce_sum_rows:-55*1"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let notes = result.stderr.split(separator: "\n").filter { $0.contains("rebuilt for work-groups") }
        #expect(notes.contains { $0.contains("layer_norm_forward") } && notes.contains { $0.contains("reduce_sum_rows") },
                "\(result.stderr)")
        #expect(!result.stdout.contains("FAIL"), "\(result.stdout)")
    }

    @Test("an injected allocation failure fails its rows with the out-of-memory advice")
    func allocationAdvice() throws {
        let result = try Cortado.run(["check", "--op", "gatheredRows"], environment: ["CORTADO_CL_INJECT": "clCreateBuffer:-4"])
        expectFailure(result, mentioning: ["gatheredRows"])
        #expect(result.stdout.contains("out of device memory") && result.stdout.contains("--precision bf16"), "\(result.stdout)")
    }

    @Test("the CPU, or an op name that matches nothing, is a clear error")
    func badArguments() throws {
        expectFailure(try Cortado.run(["check", "--device", "cpu"]), mentioning: ["OpenCL device", "cortado devices"])
        expectFailure(try Cortado.run(["check", "--op", "no-such-op"]), mentioning: ["no-such-op", "softmax"])
    }
}

@Suite("Check tolerances")
struct CheckToleranceTests {
    @Test("differences count elements outside atol + rtol·|expected|; NaN matches NaN, infinities only themselves")
    func differences() {
        let tolerance = CheckTolerance(rtol: 0.1, atol: 0.01)
        let close = CheckDifference([1.05, -2.2, .nan, .infinity], [1.0, -2.0, .nan, .infinity], tolerance: tolerance)
        #expect(close.passed && close.count == 4)
        #expect(abs(close.maxError - 0.2) < 1e-6)
        let far = CheckDifference([1.2, 0.02, .infinity, .nan], [1.0, 0.0, 5, 1], tolerance: tolerance)
        #expect(far.mismatches == 4 && !far.passed && far.examples.count == 4)
        #expect(far.maxError == .infinity)
        let count = CheckDifference([1, 2], [1, 2, 3], tolerance: tolerance)
        #expect(!count.passed && count.examples == ["count 2 ≠ expected 3"])
    }
}
