// CortadoFormats: the file formats of the tools Cortado's users already have — ONNX models,
// TensorBoard event files, SVG charts of training curves.
@_exported import CortadoTraining
