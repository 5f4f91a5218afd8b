import Testing
@testable import Cortado

/// Contiguous elementwise kernels in 16-bit storage, where GPU builds give each work-item several
/// elements: every element is computed once, offsets and ragged ends included, bit for bit as on
/// the CPU backend (both compute in float and round to nearest even).
@Suite("Elementwise kernels in 16-bit storage")
struct Elementwise16Tests {
    static let cases: [DTypeOnDevice] = [DType.float16, .bfloat16].flatMap { dtype in
        TestDevices.openCLVariants.map { DTypeOnDevice(dtype: dtype, device: $0) }
    }

    @Test("unary and binary ops over ragged lengths and offset views match the CPU bit for bit", arguments: cases)
    func matchesCPU(_ c: DTypeOnDevice) throws {
        // 1: a single element; 1021: no multiple of 4 or of a work-group; 70_001: many work-groups.
        for count in [1, 1021, 70_001] {
            let a = try Tensor(Fixtures.values(count + 3, seed: 901, low: -3, high: 3)).to(dtype: c.dtype)
            let b = try Tensor(Fixtures.values(count + 3, seed: 902, low: -3, high: 3)).to(dtype: c.dtype)
            // Views starting 3 elements in: contiguous, at an offset.
            func ops(_ a: Tensor, _ b: Tensor) throws -> [Tensor] {
                let (x, y) = (try a.sliced(axis: 0, 3..<count + 3), try b.sliced(axis: 0, 3..<count + 3))
                return [try x + y, try x * y, try x.relu(), try -x, try x * 0.5]
            }
            let expected = try ops(a, b)
            let got = try ops(a.to(c.device), b.to(c.device))
            for (index, (want, have)) in zip(expected, got).enumerated() {
                #expect(have.dtype == c.dtype)
                #expect(try have.storedBytes() == want.storedBytes(), "op \(index), \(count) elements, \(c)")
            }
        }
    }
}
