import Testing
@testable import Cortado

/// Contiguous elementwise kernels, where GPU builds give each work-item several elements (one
/// aligned 16-byte vector when the offsets allow, else several 2-byte elements a global size
/// apart): every element is computed once, offsets and ragged ends included, bit for bit as on the
/// CPU backend (both compute in float and round to nearest even).
@Suite("Contiguous elementwise kernels in every floating-point storage")
struct ContiguousElementwiseTests {
    static let cases: [DTypeOnDevice] = [DType.float16, .bfloat16, .float32].flatMap { dtype in
        TestDevices.openCLVariants.map { DTypeOnDevice(dtype: dtype, device: $0) }
    }

    @Test("unary and binary ops over ragged lengths and offset views match the CPU bit for bit", arguments: cases)
    func matchesCPU(_ c: DTypeOnDevice) throws {
        // 1: a single element; 7: only a tail; 1021: no multiple of 4, 8 or a work-group;
        // 70_001: many work-groups. Offsets 0 and 8 take the vector kernels on GPUs, 3 and a
        // second operand at 8 against a first at 3 the element kernels.
        for count in [1, 7, 1021, 70_001] {
            for (offsetA, offsetB) in [(0, 0), (8, 8), (3, 3), (3, 8)] {
                let a = try Tensor(Fixtures.values(count + 8, seed: 901, low: -3, high: 3)).to(dtype: c.dtype)
                let b = try Tensor(Fixtures.values(count + 8, seed: 902, low: -3, high: 3)).to(dtype: c.dtype)
                // Contiguous views starting at an offset.
                func ops(_ a: Tensor, _ b: Tensor) throws -> [Tensor] {
                    let x = try a.sliced(axis: 0, offsetA..<count + offsetA)
                    let y = try b.sliced(axis: 0, offsetB..<count + offsetB)
                    return [try x + y, try x * y, try x.relu(), try -x, try x * 0.5]
                }
                let expected = try ops(a, b)
                let got = try ops(a.to(c.device), b.to(c.device))
                for (index, (want, have)) in zip(expected, got).enumerated() {
                    #expect(have.dtype == c.dtype)
                    #expect(try have.storedBytes() == want.storedBytes(),
                            "op \(index), \(count) elements at offsets \(offsetA), \(offsetB), \(c)")
                }
            }
        }
    }
}
