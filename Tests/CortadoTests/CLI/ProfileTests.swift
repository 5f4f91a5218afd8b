import CortadoFormats
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

    @Test("a profile that cannot be written is reported, not a crash")
    func unwritable() throws {
        let directory = try TemporaryDirectory()
        let result = try Cortado.run(["train", "--model", "linear", "--limit", "64", "--epochs", "1", "--device", "cpu",
                                      "--profile", directory.file("missing-folder/trace.json")])
        #expect(!result.crashed)
        #expect(result.stderr.contains("missing-folder/trace.json"), "\(result.stderr)")
    }
}
