import ArgumentParser
import Cortado
import CortadoTraining
import Foundation

extension PruningNorm: ExpressibleByArgument {}

/// `cortado prune`: a magnitude-pruned copy of a checkpoint, optionally fine-tuned.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Write a magnitude-pruned copy of a checkpoint: single weights zeroed, or whole units removed (--structured).",
        discussion: """
            Unstructured (the default): in every Linear and convolution weight and every LSTM/GRU \
            weight, the --sparsity fraction of entries with the smallest absolute values become zero; \
            biases, normalisation weights and embeddings stay. The file keeps its size (it shrinks only \
            when compressed).

            --structured removes the --sparsity fraction of the units of each group (convolution \
            channels, hidden units, LSTM/GRU units, attention heads, feed-forward rows), those whose \
            incoming weights have the smallest --norm (or, with --norm taylor, whose removal changes the \
            loss least to first order, measured on 32 training batches), with the next layer's matching inputs, and writes \
            the smaller model dense: `cortado eval` and `predict` run it with the ordinary kernels. The \
            output lists the groups and what stays dense.

            --fine-tune N then trains the pruned model N epochs on its data with `cortado train`'s \
            recipe (the checkpoint's optimizer, learning rate, batch size and seed), keeping pruned \
            weights at zero, and prints the test accuracy of the dense, pruned and fine-tuned models. \
            With --distill the pruned model also learns the dense model's outputs (softened at \
            --temperature, weighted --distill-weight against the labels).

            Examples:
              cortado prune --checkpoint cnn.safetensors --out cnn-pruned.safetensors --sparsity 0.5 --structured --fine-tune 1
              cortado prune --checkpoint bert.safetensors --out bert-pruned.safetensors --sparsity 0.3 --structured --fine-tune 1 --distill
              cortado prune --checkpoint cnn.safetensors --out cnn-sparse.safetensors --sparsity 0.8
            """)

    @Option(help: "A float checkpoint written by `cortado train --save`.")
    var checkpoint: String

    @Option(help: "Where to write the pruned checkpoint (not the input; an existing file there is replaced).")
    var out: String

    @Option(help: "The fraction to remove, in [0, 1): of each weight's entries, or with --structured of each group's units.")
    var sparsity: Double

    @Flag(help: "Remove whole units and re-pack the model dense (smaller and faster), instead of zeroing single weights.")
    var structured = false

    @Option(help: "--structured: rank units by the l1 or l2 norm of their incoming weights, or by taylor: the loss's first-order sensitivity to each unit over 32 training batches (reads the checkpoint's data).")
    var norm: PruningNorm = .l1

    @Option(help: "Epochs of fine-tuning after pruning (0: none).")
    var fineTune = 0

    @Option(help: "Fine-tuning: train on the first N training samples only.")
    var limit: Int?

    @Option(name: .customLong("lr"), help: "Fine-tuning: the base learning rate of its schedule (default: the checkpoint's).")
    var learningRate: Float?

    @Flag(help: "Fine-tuning: learn the dense model's softened outputs as well as the labels (knowledge distillation).")
    var distill = false

    @Option(help: "--distill: the share of the dense model's term in the loss, in [0, 1] (default 0.5).")
    var distillWeight: Float?

    @Option(help: "--distill: the softmax temperature, in (0, 100] (default 2).")
    var temperature: Float?

    @Option(help: "Fine-tuning device: cpu, gpu[:N], opencl[:N], auto (or CORTADO_DEVICE).")
    var device: String?

    @Flag(help: "Print a JSON object instead of text.")
    var json = false

    @OptionGroup var cpu: ThreadsOption

    struct Result: Encodable {
        let checkpoint: String
        let out: String
        let pruning: PruningRecord
        let inputBytes: Int
        let outputBytes: Int
        let denseAccuracy: Double?
        let prunedAccuracy: Double?
        let fineTunedAccuracy: Double?
    }

    func run() throws {
        try cpu.apply()
        var options = PruningOptions(sparsity: sparsity, structured: structured, norm: norm, fineTuneEpochs: fineTune)
        options.fineTuneLimit = limit
        options.fineTuneLearningRate = learningRate
        if distill {
            let defaults = Distillation.Settings()
            options.distillation = Distillation.Settings(
                temperature: temperature ?? defaults.temperature, weight: distillWeight ?? defaults.weight)
        } else if distillWeight != nil || temperature != nil {
            throw ValidationError("--distill-weight and --temperature set the distillation: add --distill")
        }
        try options.validate()
        let input = URL(fileURLWithPath: checkpoint), output = URL(fileURLWithPath: out)
        let saved = try ModelCheckpoint(contentsOf: input)
        let target = fineTune > 0 ? try DeviceSelection.resolve(device.map { [$0] } ?? [], fallback: ["cpu"])[0] : .cpu
        let report = try saved.writePruned(to: output, options: options, device: target) { epoch in
            if !json {
                Terminal.note(String(format: "fine-tuning epoch %d: train loss %.4f", epoch.epoch, epoch.trainLoss)
                              + (epoch.testAccuracy.map { String(format: "  test accuracy %.4f", $0) } ?? ""))
            }
        }
        func size(_ url: URL) -> Int { ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int) ?? 0 }
        let record = report.record
        let result = Result(checkpoint: checkpoint, out: out, pruning: record, inputBytes: size(input), outputBytes: size(output),
                            denseAccuracy: report.denseAccuracy, prunedAccuracy: report.prunedAccuracy,
                            fineTunedAccuracy: report.fineTunedAccuracy)
        if json {
            print(try Terminal.jsonLine(result))
            return
        }
        print("wrote \(output.path) (\(record.method), sparsity \(record.sparsity)): \(result.outputBytes) bytes, "
              + "\(result.inputBytes) in \(input.path)")
        if record.method == "structured" {
            for group in record.groups { print("  \(group.name): \(group.before) → \(group.after)") }
            print(String(format: "parameters: %d → %d (%.3f×)", record.parametersBefore, record.parametersAfter,
                         Double(record.parametersAfter) / Double(max(record.parametersBefore, 1))))
        } else {
            print(String(format: "zero weights: %d of %d in %d weight tensors (%.4f); the file shrinks only when compressed",
                         record.zeroWeights, record.prunableWeights, record.prunedWeights.count,
                         Double(record.zeroWeights) / Double(max(record.prunableWeights, 1))))
        }
        print("stays dense: \(record.dense.joined(separator: "; "))")
        func percent(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "n/a" }
        if fineTune > 0 {
            print("test accuracy: dense \(percent(report.denseAccuracy)), pruned \(percent(report.prunedAccuracy)), "
                  + "after \(fineTune) fine-tuning epoch\(fineTune == 1 ? "" : "s") \(percent(report.fineTunedAccuracy))")
        }
    }
}
