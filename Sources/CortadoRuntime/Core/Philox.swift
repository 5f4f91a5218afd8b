import Foundation

/// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the same
/// generator as `Kernels/random.cl`, so the CPU and OpenCL devices draw identical streams.
package enum Philox {
    /// The four 32-bit words for `counter` under key `seed`.
    @inline(__always)
    package static func block(counter: UInt64, seed: UInt64) -> SIMD4<UInt32> {
        var c = SIMD4<UInt32>(UInt32(truncatingIfNeeded: counter), UInt32(truncatingIfNeeded: counter >> 32), 0, 0)
        var k = SIMD2<UInt32>(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        for _ in 0..<9 {
            c = round(c, k)
            k &+= SIMD2(0x9E37_79B9, 0xBB67_AE85)
        }
        return round(c, k)
    }

    @inline(__always)
    private static func round(_ c: SIMD4<UInt32>, _ k: SIMD2<UInt32>) -> SIMD4<UInt32> {
        let p0 = UInt64(0xD251_1F53) &* UInt64(c.x)
        let p1 = UInt64(0xCD9E_8D57) &* UInt64(c.z)
        let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
        let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
        return SIMD4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0)
    }
}
