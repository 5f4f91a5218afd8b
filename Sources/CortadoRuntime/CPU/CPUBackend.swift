import Foundation

/// Runs operations on the host CPU: `cblas_sgemm` from OpenBLAS for matrix products, vectorised
/// loops (Swift, and CVectorMath for transcendental functions) split over the cores for everything else. Operations complete before returning.
package final class CPUBackend: Backend {
    package let device: Device
    package let allocator: CachingAllocator

    /// Elements below which an elementwise loop stays on one core.
    static let elementwiseGrain = 1 << 15
    /// Elements below which a loop of transcendental functions stays on one core.
    static let transcendentalGrain = 1 << 12

    init(device: Device) {
        self.device = device
        OpenBLASThreads.configure
        // No single buffer larger than physical memory: with Linux overcommit (vm.overcommit_memory
        // = 1) such a malloc succeeds and the first fill pages until the kernel kills the process.
        let physicalMemory = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        allocator = CachingAllocator(
            device: device, maxAllocation: physicalMemory > 0 ? physicalMemory : Int.max,
            totalMemory: physicalMemory > 0 ? physicalMemory : Int.max,
            allocate: { bytes in
                var pointer: UnsafeMutableRawPointer?
                guard posix_memalign(&pointer, 64, bytes) == 0, let pointer else {
                    throw CortadoError.outOfDeviceMemory(device: "cpu", bytes: bytes, detail: "posix_memalign failed")
                }
                return .host(pointer)
            },
            free: { handle in
                free(handle.hostPointer)
            })
    }

    package func write(_ bytes: UnsafeRawBufferPointer, to buffer: DeviceBuffer, atByte: Int) throws {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        memcpy(buffer.handle.hostPointer + atByte, source, bytes.count)
    }

    package func read(_ buffer: DeviceBuffer, atByte: Int, into bytes: UnsafeMutableRawBufferPointer) throws {
        guard let destination = bytes.baseAddress, bytes.count > 0 else { return }
        memcpy(destination, buffer.handle.hostPointer + atByte, bytes.count)
    }

    /// Ordinary memory: the device is the host.
    package func makeHostStaging(bytes: Int) throws -> HostStaging { try HostStaging.ordinary(count: bytes) }

    package func supports(_ operation: BackendOperation, _ dtype: DType) -> Bool {
        switch operation {
        case .fill, .copy: return true
        // Losses, optimizer updates (master weights) and random draws stay in float32.
        case .crossEntropy, .update, .random: return dtype == .float32
        // Quantised inference: int8 operands, float32 activations to quantise.
        case .quantizedGemm: return dtype == .int8
        case .quantizeRows: return dtype == .float32
        default: return dtype.isFloatingPoint
        }
    }

    package func fill(_ buffer: DeviceBuffer, offset: Int, count: Int, value: Double) throws {
        guard count > 0 else { return }
        let bits = buffer.dtype.bitPattern(of: value)
        let width = buffer.dtype.byteSize
        let start = buffer.handle.hostPointer + offset * width
        if bits == 0 {
            memset(start, 0, count * width)
            return
        }
        switch width {
        case 1: memset(start, Int32(bits), count)
        case 2: start.assumingMemoryBound(to: UInt16.self).update(repeating: UInt16(truncatingIfNeeded: bits), count: count)
        case 4: start.assumingMemoryBound(to: UInt32.self).update(repeating: UInt32(truncatingIfNeeded: bits), count: count)
        default: start.assumingMemoryBound(to: UInt64.self).update(repeating: bits, count: count)
        }
    }

    package func copy(_ source: StridedView, to destination: StridedView) throws {
        precondition(source.shape == destination.shape, "copy between different shapes")
        guard destination.count > 0 else { return }
        guard source.dtype == destination.dtype else { return convert(source, to: destination) }
        switch source.dtype.byteSize {
        case 1: copyBits(source, to: destination, as: UInt8.self)
        case 2: copyBits(source, to: destination, as: UInt16.self)
        case 4: copyBits(source, to: destination, as: UInt32.self)
        default: copyBits(source, to: destination, as: UInt64.self)
        }
    }

    /// Copies elements of one type bit for bit, `Word` being an integer of their width.
    private func copyBits<Word: FixedWidthInteger>(_ source: StridedView, to destination: StridedView, as _: Word.Type) {
        let count = destination.count
        let width = MemoryLayout<Word>.size
        let src = source.buffer.handle.hostPointer.assumingMemoryBound(to: Word.self)
        let dst = destination.buffer.handle.hostPointer.assumingMemoryBound(to: Word.self)
        if source.isContiguous && destination.isContiguous {
            memcpy(dst + destination.offset, src + source.offset, count * width)
            return
        }
        let (shape, strides, base) = StridedRows.layout(destination.shape, [source, destination])
        StridedRows.forEach(shape: shape, strides: strides, base: base, grain: Self.elementwiseGrain) { at, step, n in
            if step[0] == 1 && step[1] == 1 {
                // Dense rows (a broadcast bias, a slice): the compiler's loop here is element by element.
                memcpy(dst + at[1], src + at[0], n * width)
            } else if step[0] == 0 && step[1] == 1 {
                // One value along the row (a convolution's bias over its output plane).
                (dst + at[1]).update(repeating: src[at[0]], count: n)
            } else {
                for j in 0..<n { dst[at[1] + j * step[1]] = src[at[0] + j * step[0]] }
            }
        }
    }

    package func synchronize() throws {}
}
