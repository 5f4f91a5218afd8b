import Cortado
import Foundation

extension PendingSafeTensor {
    /// A device tensor to write in the safetensors type of its element type (`F32`, `BF16`, `I8`,
    /// …); its values are read back from the device only when the writer reaches it.
    public init(name: String, tensor: Tensor) {
        self.init(name: name, dtype: SafeTensorsDType(tensor.dtype), shape: tensor.shape) {
            try tensor.storedBytes()
        }
    }
}

extension SafeTensors {
    /// Writes named device tensors (each in its element type: `float32` as `F32`, `bfloat16` as
    /// `BF16`, …) and `metadata` to `url`,
    /// reading each tensor back from its device as the writer reaches it.
    /// - Throws: ``CheckpointError`` naming `url`; a tensor that cannot be read back names the
    ///   tensor and leaves any existing file at `url` unchanged.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        try write(pending: tensors.map { PendingSafeTensor(name: $0.name, tensor: $0.tensor) }, metadata: metadata, to: url)
    }
}

extension SafeTensorsFile {
    /// Tensor `name` as a Cortado tensor on `device` (the scoped default device when `nil`).
    ///
    /// Without `dtype`, the tensor keeps its stored type when Cortado has it (`F32`, `F16`, `BF16`,
    /// `I8`, `U8`, `I32`, `I64` load bit for bit); `F64` loads as `float32`, and `BOOL` and the
    /// other integer types as `int32` (see ``floats(_:)`` and ``int32s(_:)``). With `dtype`, the
    /// values are converted to it: floats round to nearest even, integers must fit `int32` when
    /// asked for as `int32`.
    /// - Parameters:
    ///   - shape: the shape the caller expects; a different shape in the file is an error.
    ///   - dtype: the element type the caller wants; a file type of the other kind (integers for
    ///     floats or the reverse) is an error.
    /// - Throws: ``CheckpointError`` naming the file and the tensor when it is missing or its shape or
    ///   type does not match; ``CortadoError`` when the device cannot hold it.
    public func tensor(_ name: String, shape: [Int]? = nil, dtype: DType? = nil, device: Device? = nil) throws -> Tensor {
        let entry = try requireInfo(name)
        if let shape, shape != entry.shape {
            throw CheckpointError(url, "tensor '\(name)' has shape \(entry.shape) but \(shape) was expected")
        }
        guard let loaded = entry.dtype.cortadoDType else {
            throw CheckpointError(url, "tensor '\(name)' has dtype \(entry.dtype), which Cortado cannot load")
        }
        if let dtype, dtype.isFloatingPoint != loaded.isFloatingPoint {
            throw CheckpointError(url, "tensor '\(name)' has dtype \(entry.dtype) but \(dtype) was expected")
        }
        let target = dtype ?? loaded
        if entry.dtype.exactDType == target {
            return try Tensor(storedBytes: bytes(of: entry), shape: entry.shape, dtype: target, device: device)
        }
        if target.isFloatingPoint {
            return try Tensor(floats(name), shape: entry.shape, dtype: target, device: device)
        }
        return try Tensor(indices: int32s(name), shape: entry.shape, device: device).to(dtype: target)
    }
}
