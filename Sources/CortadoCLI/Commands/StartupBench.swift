import ArgumentParser
import CortadoTraining
import Foundation

/// `cortado bench startup`: kernel compilation on a first start (empty caches) against a cached
/// start, measured in child processes so that nothing of this process's caches carries over.
struct StartupBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup",
        abstract: "Measure kernel builds on a first start (empty caches) and on a cached start.",
        discussion: """
            Runs `cortado` twice with a fresh, empty kernel cache (CORTADO_CACHE_DIR, and POCL_CACHE_DIR for \
            PoCL): the first start compiles every program a training step of the model uses, the second \
            loads them. Reported: program build time (clBuildProgram or cache loads) and the whole first \
            training step (which includes first-launch compilation in some drivers).
            """)

    @Option(help: "The OpenCL device to measure.")
    var device = "opencl"

    @Option(help: "The model whose training step the start runs.")
    var model: BuiltinModel = .cnn

    @Flag(help: "Print JSON objects (one per start).")
    var json = false

    @Flag(help: .hidden)
    var child = false

    struct Start: Codable {
        var start: String
        var device: String
        var programsCompiled: Int
        var programsLoaded: Int
        var buildSeconds: Double
        var firstStepSeconds: Double
    }

    @OptionGroup var cpu: ThreadsOption

    func run() throws {
        try cpu.apply()
        let target = try DeviceSelection.resolve([device])[0]
        guard target.kind == .opencl else { throw ValidationError("startup measures OpenCL kernel builds; --device \(device) is the CPU") }
        if child { return try measureOneStart(target) }
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("cortado-startup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        var starts: [Start] = []
        for label in ["first start (empty cache)", "cached start"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
            process.arguments = ["bench", "startup", "--child", "--device", target.id, "--model", model.rawValue]
            var environment = ProcessEnvironment.all()
            environment["CORTADO_CACHE_DIR"] = cache.appendingPathComponent("cortado").path
            environment["POCL_CACHE_DIR"] = cache.appendingPathComponent("pocl").path
            process.environment = environment
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            guard process.terminationStatus == 0, var start = try? decoder.decode(Start.self, from: output) else {
                throw ValidationError("the \(label) probe failed (status \(process.terminationStatus))")
            }
            start.start = label
            starts.append(start)
        }
        for start in starts {
            if json {
                print(try Terminal.jsonLine(start))
            } else {
                print(String(format: "%@ on %@: %d programs compiled, %d loaded from cache, %.2f s of program builds; first %@ training step %.2f s",
                             start.start, start.device, start.programsCompiled, start.programsLoaded, start.buildSeconds,
                             model.rawValue, start.firstStepSeconds))
            }
        }
    }

    /// In the child: one training step of the model at batch 2, reporting compile statistics.
    private func measureOneStart(_ device: Device) throws {
        let started = Date()
        let network = try model.make(sampleShape: [1, 28, 28], outputs: 10, device: device, generator: RandomGenerator(seed: 1))
        let adam = try Adam(network.trainableParameters())
        let x = try Tensor.uniform([2, 1, 28, 28], device: device)
        let labels = try Tensor(indices: [1, 2], device: device)
        try Losses.crossEntropy(logits: network(x), labels: labels).backward()
        try adam.step()
        try device.synchronize()
        let seconds = Date().timeIntervalSince(started)
        let statistics = try device.compileStatistics
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let start = Start(start: "", device: device.id, programsCompiled: statistics.compiledFromSource,
                          programsLoaded: statistics.loadedFromCache,
                          buildSeconds: statistics.sourceSeconds + statistics.cacheSeconds, firstStepSeconds: seconds)
        print(String(decoding: try encoder.encode(start), as: UTF8.self))
    }
}
