import ArgumentParser
import CortadoFormats
import CortadoBenchmarks
import CortadoTraining
import Foundation

extension SuiteBench {
    /// `--suite compression`: fp32, int8 and pruned copies of `--checkpoint`, evaluated side by side.
    func runCompression() throws {
        try cpu.apply()
        guard let checkpoint else { throw ValidationError("--suite compression needs --checkpoint FILE (a float32 checkpoint)") }
        let sparsities = self.sparsities.isEmpty ? [0.3, 0.5] : self.sparsities
        for sparsity in sparsities { try PruningOptions(sparsity: sparsity, fineTuneEpochs: fineTune).validate() }
        guard Set(norms).count == norms.count else { throw ValidationError("--norm \(norms.map(\.rawValue)) names a ranking twice") }
        let saved = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint))
        let device = try DeviceSelection.resolve(devices.isEmpty ? ["cpu"] : [devices[0]])[0]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cortado-compression-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var variants = try CompressionBenchmark.variants(
            of: saved, in: directory, sparsities: sparsities, norms: norms.isEmpty ? [.l1] : norms, fineTuneEpochs: fineTune, device: device)
        for path in comparisons {
            _ = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: path))  // a clear error before any timing
            variants.append(.init(name: URL(fileURLWithPath: path).lastPathComponent, url: URL(fileURLWithPath: path)))
        }
        let test = saved.configuration.readsText
            ? try TextData.forEvaluation(saved.configuration.data, checkpoint: saved.configuration)
            : try DataLoading.forEvaluation(saved.configuration.data, checkpoint: saved.configuration)
        let results = try CompressionBenchmark.measure(variants, test: test, device: device, rounds: rounds)
        if json {
            for result in results { print(try Terminal.jsonLine(result)) }
        } else {
            print("\(saved.configuration.model.rawValue) on \(test.count) test samples of \(saved.configuration.data), \(device.id); "
                  + "medians of \(rounds) interleaved rounds")
            print(Terminal.table(
                ["variant", "accuracy", "file bytes", "of fp32", "weight bytes", "parameters", "eval ms", "samples/s", "speed-up"],
                results.map { r in
                    [r.variant, r.accuracy.map { String(format: "%.4f", $0) } ?? "n/a", "\(r.bytes)", String(format: "%.3f", r.sizeRatio),
                     "\(r.weightBytes)", "\(r.parameters)", String(format: "%.1f", r.medianMs), String(format: "%.0f", r.samplesPerSecond),
                     String(format: "%.2f×", r.speedup)]
                }))
        }
        if let svg {
            let chart = BarPanelsChart(
                title: "Cortado compression: \(saved.configuration.model.rawValue) (\(URL(fileURLWithPath: checkpoint).lastPathComponent))",
                subtitle: "\(test.count) test samples on \(device.id); machine: \(Machine.description)",
                items: results.map(\.variant),
                panels: [
                    .init(title: "Test accuracy", values: results.map(\.accuracy)) { String(format: "%.4f", $0) },
                    .init(title: "Weights (MB, without optimizer state)", values: results.map { Double($0.weightBytes) / 1e6 }) {
                        String(format: "%.3f MB", $0)
                    },
                    .init(title: "Eval speed (samples/s)", values: results.map(\.samplesPerSecond)) { String(format: "%.0f/s", $0) },
                ])
            try chart.write(to: URL(fileURLWithPath: svg))
            Terminal.note("wrote \(svg)")
        }
    }
}
