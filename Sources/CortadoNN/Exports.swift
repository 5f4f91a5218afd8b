// `import CortadoNN` brings in tensors, autograd and devices as well.
@_exported import Cortado
