import Foundation

/// The largest single allocation Cortado makes on a device, and how a tensor larger than it is
/// split into segments.
///
/// The cap is the device's own (`CL_DEVICE_MAX_MEM_ALLOC_SIZE` for OpenCL, physical memory for the
/// CPU), or lower when `CORTADO_MAX_ALLOCATION` (bytes) is set, or inside
/// ``withLoweredCap(_:_:)`` (tests): so the segmented paths can be exercised with small tensors on
/// any device.
package enum AllocationCap {
    /// `CORTADO_MAX_ALLOCATION`, read once per process (`nil` when unset or not a positive integer).
    package static let environment: Int? = {
        guard let text = ProcessEnvironment.value("CORTADO_MAX_ALLOCATION"),
              let bytes = Int(text.trimmingCharacters(in: .whitespaces)), bytes > 0
        else { return nil }
        return bytes
    }()

    /// A cap set for the current task by ``withLoweredCap(_:_:)``.
    @TaskLocal static var scoped: Int?

    /// Runs `body` with every device's cap lowered to `bytes` for allocations made by this task
    /// (a test hook: tasks running beside it keep their caps).
    package static func withLoweredCap<R>(_ bytes: Int, _ body: () throws -> R) rethrows -> R {
        try $scoped.withValue(bytes, operation: body)
    }

    /// The cap in force for a device whose own cap is `deviceCap`.
    package static func effective(deviceCap: Int) -> Int {
        Swift.min(deviceCap, scoped ?? environment ?? Int.max)
    }

    /// The largest allocator size class no larger than `cap` (`nil` below the smallest class).
    package static func largestSizeClass(atMost cap: Int) -> Int? {
        let smallest = CachingAllocator.sizeClass(1)
        guard cap >= smallest else { return nil }
        // Classes between 2^o and 2^(o+1) are multiples of 2^o / 4; 2^o itself is a class.
        let octave = Int.bitWidth - cap.leadingZeroBitCount - 1
        let step = Swift.max((1 << octave) / 4, 1)
        return Swift.max(cap / step * step, smallest)
    }

    /// The elements per segment of a tensor of `dtype` split under `cap`: whole rows of `rowLength`
    /// elements when a row fits, else a run of elements; always a multiple of 4 elements, so that a
    /// segment starts at a Philox block of ``Backend/random(_:seed:counter:into:offset:count:)``.
    /// `nil` when not even four elements fit.
    package static func segmentLength(cap: Int, dtype: DType, rowLength: Int) -> Int? {
        guard let usable = largestSizeClass(atMost: cap) else { return nil }
        let perSegment = usable / dtype.byteSize
        guard perSegment >= 4 else { return nil }
        if rowLength >= 1 && rowLength <= perSegment {
            let step = 4 / gcd(rowLength, 4)
            let rows = perSegment / rowLength / step * step
            if rows > 0 { return rows * rowLength }
        }
        return perSegment / 4 * 4
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }
}
