import Cortado
import Foundation

extension PendingSafeTensor {
    /// A device tensor to write as `F32` or `I32`; its values are read back from the device only
    /// when the writer reaches it.
    public init(name: String, tensor: Tensor) {
        self.init(name: name, dtype: SafeTensorsDType(tensor.dtype), shape: tensor.shape) {
            switch tensor.dtype {
            case .float32: return littleEndianBytes(try tensor.toArray().map(\.bitPattern))
            case .int32: return littleEndianBytes(try tensor.toIntArray())
            }
        }
    }
}

extension SafeTensors {
    /// Writes named device tensors (`float32` as `F32`, `int32` as `I32`) and `metadata` to `url`,
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
    /// The element type is `dtype` when given, else the file's type's ``SafeTensorsDType/cortadoDType``:
    /// `F32`, `F16`, `BF16` and `F64` load as `float32`; `I32` and the other integer types as `int32`
    /// (see ``floats(_:)`` and ``int32s(_:)`` for the conversions).
    /// - Parameters:
    ///   - shape: the shape the caller expects; a different shape in the file is an error.
    ///   - dtype: the element type the caller expects; a file type of the other kind is an error.
    /// - Throws: ``CheckpointError`` naming the file and the tensor when it is missing or its shape or
    ///   type does not match; ``CortadoError`` when the device cannot hold it.
    public func tensor(_ name: String, shape: [Int]? = nil, dtype: DType? = nil, device: Device? = nil) throws -> Tensor {
        let entry = try requireInfo(name)
        if let shape, shape != entry.shape {
            throw CheckpointError(url, "tensor '\(name)' has shape \(entry.shape) but \(shape) was expected")
        }
        guard let stored = entry.dtype.cortadoDType else {
            throw CheckpointError(url, "tensor '\(name)' has dtype \(entry.dtype), which Cortado cannot load")
        }
        if let dtype, dtype != stored {
            throw CheckpointError(url, "tensor '\(name)' has dtype \(entry.dtype) but \(dtype) was expected")
        }
        switch stored {
        case .float32: return try Tensor(floats(name), shape: entry.shape, device: device)
        case .int32: return try Tensor(indices: int32s(name), shape: entry.shape, device: device)
        }
    }
}
