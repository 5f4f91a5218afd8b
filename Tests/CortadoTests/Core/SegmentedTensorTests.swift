import Cortado
import CortadoNN
import Foundation
import Testing

/// Tensors larger than the device's allocation cap, stored in segments: with the cap lowered to
/// 4 KiB, a `[200, 12]` float32 table (9.4 KiB) is three buffers of 85, 85 and 30 rows. Each op
/// is checked against the same computation without the cap and against a host reference.
@Suite("Tensors over the allocation cap")
struct SegmentedTensorTests {
    static let cap = 4096
    static let (rows, width) = (200, 12)
    static let table = Fixtures.values(rows * width, seed: 171, low: -2, high: 2)
    /// Ids in any order, repeated, at the segment boundaries (rows 84/85 and 169/170), and two
    /// outside the table (rows of zeros, no gradient).
    static let ids: [Int32] = [3, 85, 199, 84, 3, 170, -1, 0, 169, 85, 200, 121]

    /// Runs `body` with every allocation cap lowered to 4 KiB.
    func capped<R>(_ body: () throws -> R) rethrows -> R {
        try AllocationCap.withLoweredCap(Self.cap, body)
    }

    /// How many buffers hold `tensor` (1 for an ordinary one).
    func segmentCount(_ tensor: Tensor) -> Int { tensor.buffer.segments?.buffers.count ?? 1 }

    @Test("a tensor over the cap is stored in whole rows, each segment under the cap", arguments: TestDevices.all)
    func segmentation(device: Device) throws {
        try capped {
            let tracker = BufferLeakTracker()
            try tracker.track {
                let table = try Tensor.zeros([Self.rows, Self.width], device: device)
                #expect(segmentCount(table) == 3)
                #expect(table.buffer.segments?.buffers.map(\.count) == [1020, 1020, 360])
                #expect(tracker.liveBuffers == 3)
                // Each segment's size class fits the cap (a reused cached buffer may be larger).
                #expect(table.buffer.segments?.buffers.allSatisfy { CachingAllocator.sizeClass($0.byteCount) <= Self.cap } == true)
                #expect(segmentCount(try Tensor.zeros([10, Self.width], device: device)) == 1)
                // Rows of 8000 bytes cannot stay whole: runs of 1024 elements.
                let wide = try Tensor.zeros([2, 2000], device: device)
                #expect(wide.buffer.segments?.buffers.map(\.count) == [1024, 1024, 1024, 928])
                // One dimension: runs of elements, a multiple of 4.
                #expect(try Tensor.zeros([3001], device: device).buffer.segments?.length == 1024)
            }
            #expect(tracker.liveBuffers == 0)
        }
        // Without the lowered cap the same table is one buffer.
        #expect(segmentCount(try Tensor.zeros([Self.rows, Self.width], device: device)) == 1)
    }

    @Test("reads and writes round-trip, whole and across a segment boundary", arguments: TestDevices.all)
    func readWrite(device: Device) throws {
        try expectNoLeaks {
            try capped {
                let table = try Tensor(Self.table, shape: [Self.rows, Self.width], device: device)
                #expect(segmentCount(table) == 3)
                #expect(try table.toArray() == Self.table)
                // Rows 80..<90 straddle the first boundary (row 85); a column is a strided view.
                #expect(try table.sliced(axis: 0, 80..<90).toArray() == Array(Self.table[(80 * Self.width)..<(90 * Self.width)]))
                let column = try table.sliced(axis: 1, 5..<6).toArray()
                #expect(column == (0..<Self.rows).map { Self.table[$0 * Self.width + 5] })
                try table.assign(Tensor.full([Self.rows, Self.width], value: 1.5, device: device))
                #expect(try table.toArray() == [Float](repeating: 1.5, count: Self.rows * Self.width))
            }
        }
    }

    @Test("random draws are the same numbers with and without segments", arguments: TestDevices.all)
    func random(device: Device) throws {
        for normal in [false, true] {
            func draw() throws -> [Float] {
                let generator = RandomGenerator(seed: 9)
                return try (normal
                    ? Tensor.normal([Self.rows, Self.width], device: device, generator: generator)
                    : Tensor.uniform([Self.rows, Self.width], device: device, generator: generator)).toArray()
            }
            let plain = try draw()
            #expect(try capped { try draw() } == plain)
        }
    }

    /// The table's rows picked by `ids`, and the gradient of `Σ picked · weights`, computed on `device`.
    func embedding(device: Device, ids: [Int32], weights: [Float]) throws -> (rows: [Float], gradient: [Float], segments: [Int]) {
        let table = try Tensor(Self.table, shape: [Self.rows, Self.width], device: device).requiringGrad()
        let picked = try table.gatheredRows(Tensor(indices: ids, device: device))
        try (picked * Tensor(weights, shape: [ids.count, Self.width], device: device)).sum().backward()
        let gradient = try #require(table.grad)
        #expect(segmentCount(gradient) == segmentCount(table))
        return (try picked.toArray(), try gradient.toArray(), [segmentCount(table), segmentCount(picked)])
    }

    /// Ids in any order with repeats and two outside the table: 12, or 150 whose gathered rows
    /// (7.0 KiB) and their gradient are segmented too.
    @Test("embedding gather and scatter-add with repeated ids", arguments: TestDevices.all, [false, true])
    func gatherScatter(device: Device, manyIds: Bool) throws {
        let ids = manyIds ? (0..<150).map { Int32(($0 * 37) % 203) - 1 } : Self.ids
        let weights = Fixtures.values(ids.count * Self.width, seed: 172)
        var expectedRows = [Float](repeating: 0, count: ids.count * Self.width)
        var expectedGradient = [Double](repeating: 0, count: Self.rows * Self.width)
        for (i, id) in ids.enumerated() where id >= 0 && Int(id) < Self.rows {
            for d in 0..<Self.width {
                expectedRows[i * Self.width + d] = Self.table[Int(id) * Self.width + d]
                expectedGradient[Int(id) * Self.width + d] += Double(weights[i * Self.width + d])
            }
        }
        let plain = try embedding(device: device, ids: ids, weights: weights)
        let split = try expectNoLeaks { try capped { try embedding(device: device, ids: ids, weights: weights) } }
        #expect(plain.segments == [1, 1] && split.segments == [3, manyIds ? 2 : 1])
        #expect(split.rows == expectedRows)
        #expect(split.rows == plain.rows)
        if !manyIds { #expect(split.gradient == plain.gradient) }
        assertClose(split.gradient, expectedGradient.map(Float.init), rtol: 1e-6, atol: 1e-6)
    }

    @Test("elementwise ops, broadcasts and a transposed copy", arguments: TestDevices.all)
    func elementwise(device: Device) throws {
        let other = Fixtures.values(Self.rows * Self.width, seed: 173)
        let bias = Fixtures.values(Self.width, seed: 174)
        func run() throws -> [[Float]] {
            let a = try Tensor(Self.table, shape: [Self.rows, Self.width], device: device)
            let b = try Tensor(other, shape: [Self.rows, Self.width], device: device)
            let results = [
                try a + b, try a * 2.5, try a.relu(), try a + Tensor(bias, device: device),
                try a.transposed().contiguous(), try a.sliced(axis: 0, 60..<140) - b.sliced(axis: 0, 0..<80),
                // Segments of 1024 elements read as rows of 5 (row 204 ends on a boundary) into an
                // output split every 204 rows: the pieces follow both.
                try Tensor(Array(Self.table[0..<2000]), device: device).reshaped([400, 5]) + Tensor(Array(bias[0..<5]), device: device),
            ]
            return try results.map { try $0.toArray() }
        }
        let plain = try run()
        let split = try expectNoLeaks { try capped { try run() } }
        #expect(split == plain)
        let (n, w) = (Self.rows, Self.width)
        let t = Self.table
        assertClose(split[0], zip(t, other).map { $0 + $1 }, rtol: 0, atol: 0, "add")
        assertClose(split[1], t.map { $0 * 2.5 }, rtol: 0, atol: 0, "mulScalar")
        assertClose(split[2], t.map { Swift.max($0, 0) }, rtol: 0, atol: 0, "relu")
        assertClose(split[3], t.indices.map { t[$0] + bias[$0 % w] }, rtol: 0, atol: 0, "add broadcast")
        assertClose(split[4], (0..<(w * n)).map { t[($0 % n) * w + $0 / n] }, rtol: 0, atol: 0, "transpose")
        assertClose(split[5], (0..<(80 * w)).map { t[60 * w + $0] - other[$0] }, rtol: 0, atol: 0, "sub of slices")
        assertClose(split[6], (0..<2000).map { t[$0] + bias[$0 % 5] }, rtol: 0, atol: 0, "rows across segments")
    }

    @Test("sums over a segmented table, whole and along each axis", arguments: TestDevices.all)
    func reductions(device: Device) throws {
        func run() throws -> [[Float]] {
            let a = try Tensor(Self.table, shape: [Self.rows, Self.width], device: device)
            return [try a.sum().toArray(), try a.sum(axes: [0]).toArray(), try a.sum(axes: [1]).toArray(), try a.max(axes: [0]).toArray()]
        }
        let plain = try run()
        let split = try expectNoLeaks { try capped { try run() } }
        let (n, w) = (Self.rows, Self.width)
        let t = Self.table.map(Double.init)
        assertClose(split[0], [Float(t.reduce(0, +))], rtol: 1e-5, atol: 1e-4, "sum")
        assertClose(split[1], (0..<w).map { d in Float((0..<n).reduce(0.0) { $0 + t[$1 * w + d] }) }, rtol: 1e-5, atol: 1e-4, "sum axis 0")
        assertClose(split[2], (0..<n).map { r in Float(t[(r * w)..<(r * w + w)].reduce(0, +)) }, rtol: 1e-5, atol: 1e-5, "sum axis 1")
        #expect(split[3] == plain[3])
        for index in 0..<3 { assertClose(split[index], plain[index], rtol: 1e-5, atol: 1e-4, "against no cap") }
    }

    @Test("an Adam step over a segmented parameter, its gradient and its moments", arguments: TestDevices.all)
    func adam(device: Device) throws {
        let coefficients = Fixtures.values(Self.rows * Self.width, seed: 175)
        func run() throws -> (values: [Float], segments: Int) {
            let parameter = try Parameter(Tensor(Self.table, shape: [Self.rows, Self.width], device: device))
            let optimizer = try Adam([("table", parameter)], learningRate: 0.01, weightDecay: 0.1)
            for _ in 0..<2 {
                optimizer.zeroGrad()
                let c = try Tensor(coefficients, shape: [Self.rows, Self.width], device: device)
                try (parameter.value * c).sum().backward()
                try optimizer.step()
            }
            return (try parameter.value.toArray(), segmentCount(parameter.value))
        }
        let plain = try run()
        let split = try expectNoLeaks { try capped { try run() } }
        #expect(plain.segments == 1 && split.segments == 3)
        #expect(split.values == plain.values)
        var expected: [Float] = []
        for (start, g) in zip(Self.table, coefficients) {
            var (p, m, v) = (Double(start), 0.0, 0.0)
            for t in 1...2 {
                let grad = Double(g) + 0.1 * p
                m = 0.9 * m + 0.1 * grad
                v = 0.999 * v + 0.001 * grad * grad
                p -= 0.01 * (m / (1 - pow(0.9, Double(t)))) / ((v / (1 - pow(0.999, Double(t)))).squareRoot() + 1e-8)
            }
            expected.append(Float(p))
        }
        assertClose(split.values, expected, rtol: 1e-5, atol: 1e-6)
    }

    /// `a · b` on the host in double precision (`a` is `m × k`, `b` is `k × n`, row-major).
    func product(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
        (0..<(m * n)).map { index in
            let (i, j) = (index / n, index % n)
            return Float((0..<k).reduce(0.0) { $0 + Double(a[i * k + $1]) * Double(b[$1 * n + j]) })
        }
    }

    @Test("matrix products with a segmented A, B or C, and their gradients", arguments: TestDevices.all)
    func gemm(device: Device) throws {
        let (n, w) = (Self.rows, Self.width)
        let t = Self.table
        let small = Fixtures.values(w * 7, seed: 176)       // [12, 7]
        let left = Fixtures.values(5 * n, seed: 177)        // [5, 200]
        let tall = Fixtures.values(300 * 3, seed: 178)      // [300, 3]
        let short = Fixtures.values(3 * 9, seed: 179)       // [3, 9]
        let upstream = Fixtures.values(5 * w, seed: 180)    // [5, 12]
        func run() throws -> [[Float]] {
            let table = try Tensor(t, shape: [n, w], device: device).requiringGrad()
            let x = try Tensor(left, shape: [5, n], device: device).requiringGrad()
            let y = try x.matmul(table)                                                  // B segmented (k-blocks)
            try y.backward(gradient: Tensor(upstream, shape: [5, w], device: device))  // dB = xᵀ·g (C segmented), dx = g·Bᵀ
            return [
                try table.matmul(Tensor(small, shape: [w, 7], device: device)).toArray(),        // A and C segmented
                try y.toArray(),
                try Tensor(tall, shape: [300, 3], device: device).matmul(Tensor(short, shape: [3, 9], device: device)).toArray(),  // C
                try table.transposed().matmul(Tensor(t, shape: [n, w], device: device)).toArray(),  // Aᵀ cut along k
                try #require(table.grad).toArray(), try #require(x.grad).toArray(),
            ]
        }
        let plain = try run()
        let split = try expectNoLeaks { try capped { try run() } }
        func transpose(_ values: [Float], rows: Int, columns: Int) -> [Float] {
            (0..<(rows * columns)).map { values[($0 % rows) * columns + $0 / rows] }
        }
        let expected = [
            product(t, small, m: n, k: w, n: 7), product(left, t, m: 5, k: n, n: w), product(tall, short, m: 300, k: 3, n: 9),
            product(transpose(t, rows: n, columns: w), t, m: w, k: n, n: w),
            product(transpose(left, rows: 5, columns: n), upstream, m: n, k: 5, n: w),
            product(upstream, transpose(t, rows: n, columns: w), m: 5, k: w, n: n),
        ]
        let names = ["A and C segmented", "B segmented", "C segmented", "Aᵀ segmented", "∂B", "∂x"]
        for index in expected.indices {
            assertClose(split[index], expected[index], rtol: 1e-4, atol: 1e-4, names[index])
            assertClose(split[index], plain[index], rtol: 1e-5, atol: 1e-5, "\(names[index]) against no cap")
        }
    }

    @Test("an op that cannot take segments apart says so, naming the op, the size and the cap", arguments: TestDevices.all)
    func unsupported(device: Device) throws {
        try expectNoLeaks {
            try capped {
                let table = try Tensor(Self.table, shape: [Self.rows, Self.width], device: device)
                do {
                    _ = try table.softmax()
                    Issue.record("softmax of a segmented table did not throw")
                } catch let error as CortadoError {
                    guard case .segmentedOperand = error else { throw error }
                    let message = error.description
                    #expect(message.contains("softmax") && message.contains("9.4 KiB") && message.contains("4.0 KiB"), "\(message)")
                }
                #expect(throws: CortadoError.self) { try table.layerNorm(weight: nil, bias: nil) }
            }
        }
    }
}
