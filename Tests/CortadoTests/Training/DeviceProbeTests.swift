import CortadoTraining
import Foundation
import Testing

@Suite("--device auto: choosing the device by measured speed")
struct DeviceProbeTests {
    static let devices: [Device] = [.cpu, TestDevices.openCL]

    func workload(batch: Int = 8, signature: String = "fake model") -> DeviceWorkload {
        DeviceWorkload(signature: signature, batch: batch, precision: "fp32", runSamples: 1_000_000)
    }

    /// A probe over cpu and opencl:0 with a cache in `directory`, short enough for a unit test.
    func probe(_ directory: TemporaryDirectory, fresh: Bool = false) -> DeviceProbe {
        var probe = DeviceProbe(candidates: Self.devices, cache: DeviceChoiceCache(directory: directory.url), fresh: fresh)
        probe.warmupSteps = 1
        probe.minimumSteps = 2
        probe.secondsPerDevice = 0.01
        return probe
    }

    /// Steps that sleep: `milliseconds[device.id]` per step of `batch` samples; counts the devices built.
    final class FakeSteps {
        let milliseconds: [String: Double]
        var built: [String] = []
        init(_ milliseconds: [String: Double]) { self.milliseconds = milliseconds }

        func make(_ device: Device) throws -> () throws -> Int {
            built.append(device.id)
            guard let delay = milliseconds[device.id] else { throw CortadoError.invalidArgument("no step on \(device.id)") }
            return {
                Thread.sleep(forTimeInterval: delay / 1000)
                return 8
            }
        }
    }

    @Test("the choice is the highest complete rate; failed or incomplete devices never win; the first wins a near-tie")
    func choice() {
        func speed(_ device: String, _ rate: Double, complete: Bool = true) -> DeviceSpeed {
            DeviceSpeed(device: device, samplesPerSecond: rate, steps: 3, complete: complete)
        }
        #expect(DeviceProbe.choose([speed("cpu", 24_100), speed("opencl:0", 11_000)]) == "cpu")
        #expect(DeviceProbe.choose([speed("cpu", 9_000), speed("opencl:0", 11_000)]) == "opencl:0")
        #expect(DeviceProbe.choose([speed("cpu", 9_000), speed("opencl:0", 50_000, complete: false)]) == "cpu")
        #expect(DeviceProbe.choose([speed("cpu", 5_000), speed("opencl:0", 5_000), speed("opencl:1", 4_000)]) == "cpu")
        #expect(DeviceProbe.choose([speed("cpu", 0), speed("opencl:0", 0, complete: false)]) == nil)
        // Within the 5 % margin the earlier device stays; beyond it the faster one wins.
        #expect(DeviceProbe.choose([speed("cpu", 10_000), speed("opencl:0", 10_400)]) == "cpu")
        #expect(DeviceProbe.choose([speed("cpu", 10_000), speed("opencl:0", 10_600)]) == "opencl:0")
        #expect(DeviceProbe.choose([speed("opencl:0", 10_000), speed("cpu", 10_400)]) == "opencl:0")
        #expect(DeviceProbe.choose([]) == nil)
    }

    @Test("the faster device wins, both figures are reported, and a device that cannot run a step is left out")
    func measuresAndChooses() throws {
        let directory = try TemporaryDirectory()
        let steps = FakeSteps(["cpu": 1, "opencl:0": 6])
        let decision = try probe(directory).fastest(workload: workload(), makeStep: steps.make)
        #expect(decision.device == .cpu && !decision.fromCache)
        #expect(decision.speeds.map(\.device) == ["cpu", "opencl:0"])
        #expect(decision.speeds[0].samplesPerSecond > decision.speeds[1].samplesPerSecond * 2)
        // Six times slower at its second warm-up step: not timed further.
        #expect(decision.speeds[1].steps == 1 && decision.speeds[0].steps >= 2)
        #expect(decision.summary.hasPrefix("auto: cpu ") && decision.summary.contains("opencl:0 ") && decision.summary.contains("→ cpu"))

        let slowCPU = FakeSteps(["cpu": 6, "opencl:0": 1])
        #expect(try probe(directory).fastest(workload: workload(batch: 9), makeStep: slowCPU.make).device == TestDevices.openCL)

        let broken = FakeSteps(["cpu": 6])
        let fallback = try probe(directory).fastest(workload: workload(batch: 10), makeStep: broken.make)
        #expect(fallback.device == .cpu && fallback.speeds[1].failure?.contains("no step on opencl:0") == true)
        #expect(fallback.summary.contains("opencl:0 failed"))

        let nothing = FakeSteps([:])
        #expect(throws: TrainingError.self) { try probe(directory).fastest(workload: workload(batch: 11), makeStep: nothing.make) }
    }

    @Test("a second decision for the same workload comes from the cache; another batch, model or auto:fresh measures again")
    func cache() throws {
        let directory = try TemporaryDirectory()
        let first = FakeSteps(["cpu": 1, "opencl:0": 6])
        let measured = try probe(directory).fastest(workload: workload(), makeStep: first.make)
        #expect(first.built == ["cpu", "opencl:0"])
        let file = try #require(measured.cacheFile)
        #expect(FileManager.default.fileExists(atPath: file.path))

        // The cache answers even when the speeds would now differ: no device is built.
        let again = FakeSteps(["cpu": 6, "opencl:0": 1])
        let cached = try probe(directory).fastest(workload: workload(), makeStep: again.make)
        #expect(again.built.isEmpty && cached.fromCache && cached.device == .cpu)
        #expect(cached.speeds == measured.speeds)
        #expect(cached.summary.contains("from the cache"))

        for changed in [workload(batch: 16), workload(signature: "another model")] {
            let steps = FakeSteps(["cpu": 6, "opencl:0": 1])
            let decision = try probe(directory).fastest(workload: changed, makeStep: steps.make)
            #expect(steps.built == ["cpu", "opencl:0"] && !decision.fromCache && decision.device == TestDevices.openCL)
            // A plain miss, in a file of its own: nothing unreadable to report.
            #expect(decision.note == nil && decision.cacheFile != file, "\(decision.note ?? "")")
        }

        let fresh = FakeSteps(["cpu": 6, "opencl:0": 1])
        let remeasured = try probe(directory, fresh: true).fastest(workload: workload(), makeStep: fresh.make)
        #expect(fresh.built == ["cpu", "opencl:0"] && remeasured.device == TestDevices.openCL)
        // auto:fresh replaced the stored decision.
        let after = FakeSteps([:])
        #expect(try probe(directory).fastest(workload: workload(), makeStep: after.make).device == TestDevices.openCL)
    }

    @Test("a corrupt or foreign cache file is measured again with a note naming it, then replaced")
    func corruptCache() throws {
        let directory = try TemporaryDirectory()
        let measured = try probe(directory).fastest(workload: workload(), makeStep: FakeSteps(["cpu": 1, "opencl:0": 6]).make)
        let file = try #require(measured.cacheFile)
        let valid = try Data(contentsOf: file)
        for garbage in [Data("{\"key\": tru".utf8), Data(), valid.prefix(valid.count / 2),
                        Data(String(decoding: valid, as: UTF8.self).replacingOccurrences(of: "fake model", with: "other").utf8),
                        Data(String(decoding: valid, as: UTF8.self).replacingOccurrences(of: "\"chosen\" : \"cpu\"", with: "\"chosen\" : \"gpu:7\"").utf8)] {
            try garbage.write(to: file)
            let steps = FakeSteps(["cpu": 1, "opencl:0": 6])
            let decision = try probe(directory).fastest(workload: workload(), makeStep: steps.make)
            #expect(steps.built == ["cpu", "opencl:0"] && !decision.fromCache && decision.device == .cpu)
            #expect(decision.note?.contains(file.path) == true && decision.note?.contains("measuring again") == true, "\(decision.note ?? "no note")")
            let reread = FakeSteps([:])
            #expect(try probe(directory).fastest(workload: workload(), makeStep: reread.make).fromCache)
        }
    }

    @Test("training on the device auto chose gives exactly the numbers of choosing it by hand")
    func sameNumbers() throws {
        let data = try TemporaryDirectory()
        try writeMNISTDirectory(data, trainLabels: [0, 1, 2, 1, 0, 2, 1, 0, 2, 2, 1, 0], testLabels: [2, 0, 1, 1])
        var options = TrainingOptions()
        options.model = .mlp
        options.data = data.path
        options.epochs = 2
        options.batchSize = 4
        options.seed = 9
        let cache = try TemporaryDirectory()
        for candidates in [Self.devices, [Self.devices[1], Self.devices[0]]] {
            var probe = DeviceProbe(candidates: candidates, cache: DeviceChoiceCache(directory: cache.url), fresh: true)
            probe.secondsPerDevice = 0.01
            let auto = try TrainingRun(options: options, probe: probe, fallback: .cpu)
            let decision = try #require(auto.deviceDecision)
            #expect(auto.device == decision.device && decision.speeds.count == 2)
            var chosen: [EpochReport] = [], byHand: [EpochReport] = []
            _ = try auto.run(epochEnded: { chosen.append($0) })
            _ = try TrainingRun(options: options, device: decision.device).run(epochEnded: { byHand.append($0) })
            #expect(chosen.map(\.trainLoss) == byHand.map(\.trainLoss))
            #expect(chosen.map(\.testLoss) == byHand.map(\.testLoss) && chosen.map(\.testAccuracy) == byHand.map(\.testAccuracy))
        }
    }
}
