import Cortado
import Testing

/// One element type on one device: the argument of tests that run a kernel in every storage type
/// on every device.
struct DTypeOnDevice: CustomTestStringConvertible, Sendable {
    let dtype: DType
    let device: Device
    var testDescription: String { "\(dtype) on \(device)" }
}
