import Foundation
import Synchronization

/// Whether loading weights accepts NaN and infinite values. By default a checkpoint or a
/// pretrained model whose floating-point tensors hold any is refused with an error naming the file
/// and the tensor: such a model computes NaN, or worse a finite but meaningless result.
/// `cortado --allow-nonfinite` (eval, predict, embed, train) turns the check off for one run.
public enum NonFiniteWeights {
    private static let allowed = Atomic<Bool>(false)

    /// Whether non-finite weights are accepted (false unless set).
    public static var areAllowed: Bool {
        get { allowed.load(ordering: .relaxed) }
        set { allowed.store(newValue, ordering: .relaxed) }
    }

    /// The number of NaN or infinite values among `bytes` of little-endian `dtype` elements (0 for
    /// integer types).
    static func count(in bytes: ArraySlice<UInt8>, dtype: SafeTensorsDType) -> Int {
        bytes.withUnsafeBytes { raw -> Int in
            var bad = 0
            switch dtype {
            case .float32:
                for index in 0..<(raw.count / 4) {
                    let bits = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
                    if bits & 0x7F80_0000 == 0x7F80_0000 { bad += 1 }
                }
            case .float16:
                for index in 0..<(raw.count / 2) {
                    let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))
                    if bits & 0x7C00 == 0x7C00 { bad += 1 }
                }
            case .bfloat16:
                for index in 0..<(raw.count / 2) {
                    let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))
                    if bits & 0x7F80 == 0x7F80 { bad += 1 }
                }
            case .float64:
                for index in 0..<(raw.count / 8) {
                    let bits = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
                    if bits & 0x7FF0_0000_0000_0000 == 0x7FF0_0000_0000_0000 { bad += 1 }
                }
            default:
                break
            }
            return bad
        }
    }
}

extension SafeTensorsFile {
    /// Throws unless tensor `entry` holds only finite values or ``NonFiniteWeights/areAllowed``.
    /// - Throws: ``CheckpointError`` naming the file, the tensor and how many values are not finite.
    func checkFinite(_ entry: SafeTensorInfo) throws {
        guard !NonFiniteWeights.areAllowed else { return }
        let bad = NonFiniteWeights.count(in: bytes(of: entry), dtype: entry.dtype)
        guard bad == 0 else {
            let total = entry.shape.reduce(1, *)
            throw CheckpointError(url, "tensor '\(entry.name)' holds \(bad) NaN or infinite value\(bad == 1 ? "" : "s") "
                                  + "among its \(total); refusing a damaged model (pass --allow-nonfinite to load it anyway)")
        }
    }
}
