import ArgumentParser
import CortadoFormats
import CortadoTraining
import Foundation

/// `cortado export`: writes a checkpoint's model, or a Hugging Face encoder, as an ONNX file.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a checkpoint's model, or a pretrained encoder, as an ONNX file (opset \(ONNXExport.opset)).",
        discussion: """
            Every built-in model exports (linear, mlp, cnn, lenet, lstm, gru, bert-classifier), with a dynamic \
            batch dimension (and sequence length for text models). Inputs: `input` (float features or images \
            scaled to [0, 1]; CSV features raw, standardised inside the graph), `input_ids` (int64 token ids) \
            and for BERT `attention_mask` (int64). Outputs: `logits` and `probabilities`, or `prediction` for \
            regression; an encoder (--model DIR) outputs `last_hidden_state` and `sentence_embedding` (as \
            `cortado embed`). Half-precision checkpoints export in float32.

            Examples:
              cortado export --checkpoint model.safetensors --onnx model.onnx
              cortado export --model ~/.local/share/cortado/models/all-MiniLM-L6-v2 --onnx minilm.onnx
            """)

    @Option(help: "The Cortado checkpoint whose model to export.")
    var checkpoint: String?

    @Option(help: "A Hugging Face BERT-family model directory whose encoder to export (for sentence embeddings).")
    var model: String?

    @Option(help: "The ONNX file to write (replaced atomically).")
    var onnx: String

    func validate() throws {
        guard (checkpoint == nil) != (model == nil) else {
            throw ValidationError("give either --checkpoint FILE or --model DIR")
        }
    }

    func run() throws {
        let output = URL(fileURLWithPath: onnx)
        let summary: ONNXExport.Summary
        if let checkpoint {
            summary = try ONNXExport.export(checkpoint: URL(fileURLWithPath: checkpoint), to: output)
        } else {
            summary = try ONNXExport.export(encoderDirectory: model ?? PretrainedModelDirectory.defaultPath, to: output)
        }
        Terminal.note("wrote \(output.path): \(summary.nodes) nodes, \(summary.bytes) bytes, inputs \(summary.inputs.joined(separator: ", ")), "
                      + "outputs \(summary.outputs.joined(separator: ", "))")
    }
}
