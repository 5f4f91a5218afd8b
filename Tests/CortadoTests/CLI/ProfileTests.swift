import CortadoFormats
import CortadoTraining
import Foundation
import Testing

@Suite("--profile Chrome traces")
struct ProfileTests {
    @Test("train --profile writes Trace Event JSON: each epoch and every step with its forward, backward and optimizer spans")
    func trainProfile() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("trace.json")
        let result = try Cortado.run(["train", "--model", "mlp", "--limit", "256", "--batch-size", "64", "--epochs", "2",
                                      "--device", "cpu", "--json", "--profile", trace])
        #expect(result.status == 0, "\(result.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: trace))) as? [String: Any])
        let events = try #require(document["traceEvents"] as? [[String: Any]])
        let complete = events.filter { $0["ph"] as? String == "X" }
        func named(_ name: String) -> [[String: Any]] { complete.filter { $0["name"] as? String == name } }
        #expect(named("step").count == 8)
        for phase in ["forward", "backward", "optimizer"] { #expect(named(phase).count == 8, "\(phase)") }
        #expect(named("epoch 1").count == 1 && named("epoch 2").count == 1)
        #expect(named("evaluate").count == 2 && named("train").count == 2 && named("save checkpoint").count == 2)
        for event in complete {
            let start = try #require(event["ts"] as? Double), duration = try #require(event["dur"] as? Double)
            #expect(start >= 0 && duration >= 0)
            #expect(event["pid"] is Int && event["tid"] is Int && event["cat"] is String)
        }
        // Every step lies inside an epoch's training span, and its phases inside the step.
        let trainSpans = named("train").map { ($0["ts"] as! Double, ($0["ts"] as! Double) + ($0["dur"] as! Double)) }
        for step in named("step") {
            let start = step["ts"] as! Double, end = start + (step["dur"] as! Double)
            #expect(trainSpans.contains { $0.0 <= start + 0.001 && end <= $0.1 + 0.001 }, "step \(step) outside the training spans")
        }
        #expect((named("step").first?["args"] as? [String: String])?["epoch"] == "1")
    }

    @Test("ChromeTrace sorts events by start and names the process and threads")
    func format() throws {
        let spans = [
            Profiler.Span(name: "b", category: "x", start: 5, duration: 1, thread: 1, arguments: [:]),
            Profiler.Span(name: "a", category: "x", start: 1, duration: 10, thread: 0, arguments: ["k": "v"]),
        ]
        let object = try #require(try JSONSerialization.jsonObject(with: ChromeTrace.json(spans, process: "p")) as? [String: Any])
        let events = try #require(object["traceEvents"] as? [[String: Any]])
        #expect(events.compactMap { $0["ph"] as? String == "X" ? $0["name"] as? String : nil } == ["a", "b"])
        #expect(events.filter { $0["ph"] as? String == "M" }.count == 3)
    }

    @Test("a profile that cannot be written is refused before the work, with status 1", arguments: ["train", "eval"])
    func unwritable(command: String) throws {
        let directory = try TemporaryDirectory()
        let arguments = command == "train"
            ? ["train", "--model", "linear", "--limit", "64", "--epochs", "1", "--device", "cpu", "--json"]
            : ["eval", "--checkpoint", directory.file("never-read.safetensors"), "--device", "cpu"]
        let result = try Cortado.run(arguments + ["--profile", directory.file("missing-folder/trace.json")])
        #expect(!result.crashed && result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("--profile: ") && result.stderr.contains("missing-folder/trace.json"), "\(result.stderr)")
        #expect(result.stdout.isEmpty, "no epoch ran: \(result.stdout)")
    }

    /// Reads a trace with Python's `json`, checks it is Trace Event JSON (complete events with
    /// numeric `ts` and `dur`, metadata events), and summarises its operations and kernels.
    static let traceChecker = #"""
import json, sys
document = json.load(open(sys.argv[1]))
events = document["traceEvents"]
assert isinstance(events, list) and events, "no traceEvents"
for event in events:
    assert event["ph"] in ("X", "M"), event
    assert isinstance(event["name"], str) and isinstance(event["pid"], int) and isinstance(event["tid"], int), event
    if event["ph"] == "X":
        assert isinstance(event["ts"], (int, float)) and isinstance(event["dur"], (int, float)), event
        assert event["ts"] >= 0 and event["dur"] >= 0, event
ops = [e for e in events if e.get("cat") == "op"]
kernels = [e for e in events if e.get("cat") == "kernel"]
print(json.dumps({
    "ops": len(ops),
    "op_devices": sorted({e["args"].get("device", "") for e in ops}),
    "ops_without_device": sum(1 for e in ops if not e.get("args", {}).get("device")),
    "ops_without_kernel": sum(1 for e in ops if not e.get("args", {}).get("kernel")),
    "op_names": sorted({e["name"] for e in ops}),
    "steps": sorted({int(e["args"]["step"]) for e in ops if "step" in e["args"]}),
    "forward_layers": sorted({e["args"]["layer"] for e in ops if e["args"].get("phase") == "forward" and "layer" in e["args"]}),
    "backward_layers": sorted({e["args"]["layer"] for e in ops if e["args"].get("phase") == "backward" and "layer" in e["args"]}),
    "kernels": len(kernels),
    "kernel_devices": sorted({e["args"]["device"] for e in kernels}),
    "kernels_with_device_time": sum(1 for e in kernels if float(e["args"]["device_us"]) >= 0 and e["args"].get("op")),
    "lanes": sorted(e["args"]["name"] for e in events if e["name"] == "thread_name"),
}))
"""#

    struct TraceSummary: Decodable {
        var ops: Int, opDevices: [String], opsWithoutDevice: Int, opsWithoutKernel: Int, opNames: [String], steps: [Int]
        var forwardLayers: [String], backwardLayers: [String], kernels: Int, kernelDevices: [String], kernelsWithDeviceTime: Int
        var lanes: [String]
    }

    func summary(_ trace: String) throws -> TraceSummary {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(TraceSummary.self, from: Data(try runPython(Self.traceChecker, arguments: [trace]).utf8))
    }

    @Test("a one-epoch cnn trace is valid Trace Event JSON; every op names its device and kernel, step and layer", arguments: ["cpu", "opencl:0"])
    func operationsInTrace(device: String) throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("trace.json")
        let result = try Cortado.run(["train", "--model", "cnn", "--limit", "192", "--batch-size", "64", "--epochs", "1",
                                      "--device", device, "--json", "--profile", trace, "--verbose"])
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try summary(trace)
        #expect(summary.ops > 100 && summary.opsWithoutDevice == 0 && summary.opsWithoutKernel == 0)
        #expect(summary.opDevices == [device])
        #expect(summary.steps == [1, 2, 3])
        #expect(["gemm", "im2col", "maxPool", "update adam"].allSatisfy(summary.opNames.contains), "\(summary.opNames)")
        #expect(summary.forwardLayers.contains("0 Conv2D") && summary.forwardLayers.contains("6 Linear"))
        #expect(summary.backwardLayers.contains("0 Conv2D") && summary.backwardLayers.contains("4 Linear"))
        if device == "cpu" {
            #expect(summary.kernels == 0 && summary.lanes == ["main"])
        } else {
            // Every kernel's device time, on a row of its own, attributed to its operation.
            #expect(summary.kernels > 100 && summary.kernelsWithDeviceTime == summary.kernels)
            #expect(summary.kernelDevices == [device] && summary.lanes.contains("\(device) kernels"))
        }
        // --verbose: the per-operation table, its gemm count that of the trace's gemm events.
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: trace))) as? [String: Any])
        let gemms = (document["traceEvents"] as? [[String: Any]] ?? []).filter { $0["cat"] as? String == "op" && $0["name"] as? String == "gemm" }.count
        let row = try #require(result.stderr.split(separator: "\n").first { $0.hasPrefix("gemm ") }, "\(result.stderr)")
        #expect(row.split(separator: " ", omittingEmptySubsequences: true).prefix(3) == ["gemm", Substring(device), Substring("\(gemms)")], "\(row)")
        #expect(result.stderr.contains("host total ms") && result.stderr.contains("device total ms"))
    }

    @Test("eval and bench write traces whose operations name their device")
    func evalAndBench() throws {
        let directory = try TemporaryDirectory()
        let model = directory.file("model.safetensors")
        #expect(try Cortado.run(["train", "--model", "mlp", "--limit", "128", "--epochs", "1", "--device", "cpu", "--save", model]).status == 0)
        let evalTrace = directory.file("eval.json")
        let eval = try Cortado.run(["eval", "--checkpoint", model, "--device", "opencl:0", "--profile", evalTrace])
        #expect(eval.status == 0, "\(eval.stderr)")
        let evaluated = try summary(evalTrace)
        #expect(evaluated.ops > 0 && evaluated.opsWithoutDevice == 0 && evaluated.opDevices == ["opencl:0"] && evaluated.kernels > 0)
        let benchTrace = directory.file("bench.json")
        let bench = try Cortado.run(["bench", "gemm", "--size", "32", "--repeats", "2", "--warmup", "1", "--profile", benchTrace])
        #expect(bench.status == 0, "\(bench.stderr)")
        let benched = try summary(benchTrace)
        #expect(benched.opNames.contains("gemm") && benched.opsWithoutDevice == 0 && Set(benched.opDevices).isSuperset(of: ["cpu", "opencl:0"]))
    }

    @Test("without --profile an OpenCL queue records no events: its kernels have no device times to read")
    func noProfilingByDefault() throws {
        let a = try Tensor.uniform([8, 8], device: TestDevices.openCL)
        let kernels = try TestDevices.openCL.profileKernels { _ = try a.matmul(a) }
        #expect(kernels.isEmpty)
    }
}
