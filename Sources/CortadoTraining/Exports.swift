// `import CortadoTraining` brings in the whole library: devices, tensors, layers, optimizers.
@_exported import CortadoNN
