import Foundation
import Testing

@Suite("cortado train --device auto")
struct DeviceAutoCommandTests {
    /// The epoch reports of a `--json` run without the fields that measure time.
    func results(_ stdout: String) throws -> [[String: String]] {
        try stdout.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return object.filter { !["seconds", "samples_per_sec"].contains($0.key) }.mapValues { "\($0)" }
        }
    }

    @Test("auto prints every device's speed, trains exactly as the chosen device by hand, and decides from the cache the second time")
    func autoMatchesChosenDevice() throws {
        let cache = try TemporaryDirectory()
        let environment = ["CORTADO_CACHE_DIR": cache.path]
        let flags = ["train", "--model", "mlp", "--limit", "256", "--batch-size", "32", "--epochs", "2", "--seed", "3", "--json"]
        let auto = try Cortado.run(flags + ["--device", "auto"], environment: environment)
        #expect(auto.status == 0, "\(auto.stderr)")
        let line = try #require(auto.stderr.split(separator: "\n").first { $0.hasPrefix("auto: ") }, "\(auto.stderr)")
        // auto: cpu 20.2 k samples/s, opencl:0 32.3 k → cpu (measured in 0.36 s)
        #expect(line.contains("cpu ") && line.contains("samples/s") && line.contains("opencl:0 ") && line.contains("measured in"), "\(line)")
        let chosen = try #require(line.split(separator: "→ ").last?.split(separator: " ").first.map(String.init))
        let byHand = try Cortado.run(flags + ["--device", chosen], environment: environment)
        #expect(byHand.status == 0, "\(byHand.stderr)")
        let autoResults = try results(auto.stdout)
        #expect(autoResults.count == 2 && autoResults.allSatisfy { $0["device"] == chosen })
        #expect(autoResults == (try results(byHand.stdout)))

        let second = try Cortado.run(flags + ["--device", "auto"], environment: environment)
        #expect(second.status == 0, "\(second.stderr)")
        let cached = try #require(second.stderr.split(separator: "\n").first { $0.hasPrefix("auto: ") })
        #expect(cached.contains("from the cache") && cached.contains("cpu ") && cached.contains("opencl:0 ") && cached.hasSuffix("auto:fresh measures again)"), "\(cached)")
        #expect(try results(second.stdout) == autoResults)

        let fresh = try Cortado.run(flags + ["--device", "auto:fresh"], environment: environment)
        #expect(fresh.stderr.contains("measured in") && !fresh.stderr.contains("from the cache"), "\(fresh.stderr)")
    }

    @Test("a corrupt decision file is named, measured again and replaced, never a crash")
    func corruptCache() throws {
        let cache = try TemporaryDirectory()
        let environment = ["CORTADO_CACHE_DIR": cache.path]
        let flags = ["train", "--model", "linear", "--limit", "64", "--epochs", "1", "--device", "auto"]
        #expect(try Cortado.run(flags, environment: environment).status == 0)
        let folder = cache.fileURL("device-choice")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(files.count == 1)
        for file in files { try Data("not json".utf8).write(to: folder.appendingPathComponent(file)) }
        let result = try Cortado.run(flags, environment: environment)
        #expect(result.status == 0 && !result.crashed, "\(result.stderr)")
        #expect(result.stderr.contains(files[0]) && result.stderr.contains("measuring again") && result.stderr.contains("measured in"), "\(result.stderr)")
        let repaired = try Cortado.run(flags, environment: environment)
        #expect(repaired.stderr.contains("from the cache"), "\(repaired.stderr)")
    }
}
