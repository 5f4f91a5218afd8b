import Cortado
import Foundation
import Testing

@Suite("Fused attention")
struct AttentionTests {
    typealias Shape = AttentionReference.Shape

    /// Inputs for `shape`: q, k, v, and a mask where sample `b` attends to its first
    /// `keys − 3·b` keys and one key in the middle is masked; with `emptySample`, the last sample
    /// attends to nothing.
    static func inputs(_ s: Shape, seed: UInt64, emptySample: Bool = false) -> (q: [Float], k: [Float], v: [Float], mask: [Float]) {
        let q = Fixtures.values(s.batch * s.heads * s.queries * s.headSize, seed: seed, low: -1.5, high: 1.5)
        let k = Fixtures.values(s.batch * s.heads * s.keys * s.headSize, seed: seed + 1, low: -1.5, high: 1.5)
        let v = Fixtures.values(s.batch * s.heads * s.keys * s.headSize, seed: seed + 2)
        let mask = (0..<s.batch).flatMap { b -> [Float] in
            let length = s.keys - 3 * b
            let empty = emptySample && b == s.batch - 1
            return (0..<s.keys).map { j in !empty && j < length && j != s.keys / 2 ? 1 : 0 }
        }
        return (q, k, v, mask)
    }

    /// Runs attention forward and backward on `device`: out, dq, dk, dv.
    static func run(
        _ q: [Float], _ k: [Float], _ v: [Float], mask: [Float]?, _ s: Shape, dOut: [Float], on device: Device
    ) throws -> (out: [Float], dq: [Float], dk: [Float], dv: [Float]) {
        let qShape = [s.batch, s.heads, s.queries, s.headSize], kShape = [s.batch, s.heads, s.keys, s.headSize]
        let query = try Tensor(q, shape: qShape, device: device).requiringGrad()
        let key = try Tensor(k, shape: kShape, device: device).requiringGrad()
        let value = try Tensor(v, shape: kShape, device: device).requiringGrad()
        let keyMask = try mask.map { try Tensor($0, shape: [s.batch, s.keys], device: device) }
        let out = try query.scaledDotProductAttention(key: key, value: value, keyMask: keyMask)
        try out.backward(gradient: Tensor(dOut, shape: qShape, device: device))
        return (try out.toArray(), try query.grad!.toArray(), try key.grad!.toArray(), try value.grad!.toArray())
    }

    @Test("matches a double-precision reference: odd lengths, masked keys, a sample with no key, heads of 8, 32 and 64",
          arguments: TestDevices.all)
    func reference(device: Device) throws {
        // Keys: 70 spans two tiles of 64 and ends mid-tile; 5 fits in one; queries differ from keys.
        let shapes = [
            Shape(batch: 3, heads: 2, queries: 19, keys: 70, headSize: 32),
            Shape(batch: 2, heads: 3, queries: 33, keys: 5, headSize: 64),
            Shape(batch: 2, heads: 1, queries: 7, keys: 41, headSize: 8),
        ]
        for (index, s) in shapes.enumerated() {
            let seed = UInt64(300 + 10 * index)
            let (q, k, v, mask) = Self.inputs(s, seed: seed, emptySample: true)
            let dOut = Fixtures.values(q.count, seed: seed + 5)
            for useMask in [true, false] {
                let expected = AttentionReference.run(q, k, v, mask: useMask ? mask : nil, s, dOut: dOut)
                let got = try Self.run(q, k, v, mask: useMask ? mask : nil, s, dOut: dOut, on: device)
                let context = "\(s) mask \(useMask) on \(device)"
                assertClose(got.out, expected.out, rtol: 1e-4, atol: 1e-5, "out \(context)")
                assertClose(got.dq, expected.dq, rtol: 1e-3, atol: 1e-5, "dq \(context)")
                assertClose(got.dk, expected.dk, rtol: 1e-3, atol: 1e-5, "dk \(context)")
                assertClose(got.dv, expected.dv, rtol: 1e-3, atol: 1e-5, "dv \(context)")
                if useMask {
                    // The sample with every key masked: zeros, not NaN, and no gradient.
                    let tail = (s.batch - 1) * s.heads * s.queries * s.headSize
                    #expect(got.out[tail...].allSatisfy { $0 == 0 }, "\(context)")
                    #expect(got.dq[tail...].allSatisfy { $0 == 0 }, "\(context)")
                }
            }
        }
    }

    @Test("gradients match finite differences", arguments: TestDevices.all)
    func gradients(device: Device) throws {
        let s = Shape(batch: 2, heads: 2, queries: 3, keys: 6, headSize: 8)
        let (q, k, v, mask) = Self.inputs(s, seed: 321)
        let (qShape, kShape) = ([2, 2, 3, 8], [2, 2, 6, 8])
        try checkGradients(on: device, [(q, qShape), (k, kShape), (v, kShape)], eps: 1e-2, "attention masked") { t in
            try t[0].scaledDotProductAttention(key: t[1], value: t[2], keyMask: Tensor(mask, shape: [2, 6], device: device))
        }
        try checkGradients(on: device, [(q, qShape), (k, kShape), (v, kShape)], eps: 1e-2, "attention scale 0.5") { t in
            try t[0].scaledDotProductAttention(key: t[1], value: t[2], scale: 0.5)
        }
    }

    @Test("agrees with the composite softmax(q·kᵀ·scale + (mask − 1)·10⁹)·v", arguments: TestDevices.all)
    func composite(device: Device) throws {
        let s = Shape(batch: 2, heads: 3, queries: 9, keys: 13, headSize: 32)
        let (q, k, v, mask) = Self.inputs(s, seed: 331)
        let query = try Tensor(q, shape: [2, 3, 9, 32], device: device)
        let key = try Tensor(k, shape: [2, 3, 13, 32], device: device)
        let value = try Tensor(v, shape: [2, 3, 13, 32], device: device)
        let keyMask = try Tensor(mask, shape: [2, 13], device: device)
        let bias = try ((keyMask - 1) * 1e9).reshaped([2, 1, 1, 13])
        let scores = try query.matmul(key.transposed()) * (1 / Float(32).squareRoot()) + bias
        let expected = try scores.softmax(axis: -1).matmul(value).toArray()
        try assertClose(query.scaledDotProductAttention(key: key, value: value, keyMask: keyMask), expected, rtol: 1e-4, atol: 1e-6)
    }

    @Test("heads viewed in place in [batch, length, heads, headSize] memory: the reference's results, in that layout",
          arguments: TestDevices.all)
    func sequenceMajorViews(device: Device) throws {
        let s = Shape(batch: 2, heads: 3, queries: 19, keys: 70, headSize: 32)
        let (q, k, v, mask) = Self.inputs(s, seed: 351, emptySample: true)
        let dOut = Fixtures.values(q.count, seed: 355)
        let expected = AttentionReference.run(q, k, v, mask: mask, s, dOut: dOut)
        // Leaves holding [batch, length, heads, headSize], as a projection's output does.
        func stored(_ x: [Float], length: Int) throws -> Tensor {
            try Tensor(x, shape: [s.batch, s.heads, length, s.headSize], device: device)
                .permuted([0, 2, 1, 3]).contiguous().requiringGrad()
        }
        let (qs, ks, vs) = (try stored(q, length: s.queries), try stored(k, length: s.keys), try stored(v, length: s.keys))
        let out = try qs.permuted([0, 2, 1, 3]).scaledDotProductAttention(
            key: ks.permuted([0, 2, 1, 3]), value: vs.permuted([0, 2, 1, 3]),
            keyMask: Tensor(mask, shape: [s.batch, s.keys], device: device))
        #expect(try out.permuted([0, 2, 1, 3]).isContiguous, "the output is sequence-major memory, joined without a copy")
        try out.backward(gradient: Tensor(dOut, shape: [s.batch, s.heads, s.queries, s.headSize], device: device))
        assertClose(try out.toArray(), expected.out, rtol: 1e-4, atol: 1e-5, "out on \(device)")
        for (leaf, reference, name) in [(qs, expected.dq, "dq"), (ks, expected.dk, "dk"), (vs, expected.dv, "dv")] {
            let grad = try #require(leaf.grad)
            assertClose(try grad.permuted([0, 2, 1, 3]).toArray(), reference, rtol: 1e-3, atol: 1e-5, "\(name) on \(device)")
        }
    }

    @Test("OpenCL agrees with the CPU at MiniLM's head size", arguments: TestDevices.openCLVariants)
    func agreesWithCPU(device: Device) throws {
        let s = Shape(batch: 4, heads: 3, queries: 24, keys: 24, headSize: 32)
        let (q, k, v, mask) = Self.inputs(s, seed: 341)
        let dOut = Fixtures.values(q.count, seed: 345)
        let cpu = try Self.run(q, k, v, mask: mask, s, dOut: dOut, on: .cpu)
        let cl = try Self.run(q, k, v, mask: mask, s, dOut: dOut, on: device)
        assertClose(cl.out, cpu.out, rtol: 1e-5, atol: 1e-6, "out")
        assertClose(cl.dq, cpu.dq, rtol: 1e-4, atol: 1e-6, "dq")
        assertClose(cl.dk, cpu.dk, rtol: 1e-4, atol: 1e-6, "dk")
        assertClose(cl.dv, cpu.dv, rtol: 1e-4, atol: 1e-6, "dv")
        let again = try Self.run(q, k, v, mask: mask, s, dOut: dOut, on: device)
        #expect(again.dq == cl.dq && again.dk == cl.dk && again.dv == cl.dv, "deterministic on \(device)")
    }

    @Test("rejects bad shapes; empty inputs give empty or zero outputs", arguments: TestDevices.all)
    func shapes(device: Device) throws {
        let q = try Tensor.zeros([2, 3, 4, 8], device: device)
        let k = try Tensor.zeros([2, 3, 5, 8], device: device)
        #expect(throws: CortadoError.self) { try q.scaledDotProductAttention(key: k, value: q) }
        #expect(throws: CortadoError.self) { try q.scaledDotProductAttention(key: k.reshaped([6, 5, 8]), value: k) }
        #expect(throws: CortadoError.self) {
            try q.scaledDotProductAttention(key: k, value: k, keyMask: Tensor.ones([2, 4], device: device))
        }
        let noKeys = try Tensor.zeros([2, 3, 0, 8], device: device)
        try assertClose(q.scaledDotProductAttention(key: noKeys, value: noKeys), [Float](repeating: 0, count: 192), shape: [2, 3, 4, 8])
        let noQueries = try Tensor.zeros([2, 3, 0, 8], device: device)
        #expect(try noQueries.scaledDotProductAttention(key: k, value: k).shape == [2, 3, 0, 8])
    }

    @Test("head sizes beyond the OpenCL kernels' limit are refused clearly; the CPU takes any", arguments: TestDevices.all)
    func largeHeads(device: Device) throws {
        let q = try Tensor(Fixtures.values(2 * 300, seed: 351), shape: [1, 1, 2, 300], device: device)
        if device == .cpu {
            let out = try q.scaledDotProductAttention(key: q, value: q)
            #expect(out.shape == [1, 1, 2, 300])
        } else {
            #expect(throws: CortadoError.self) { try q.scaledDotProductAttention(key: q, value: q) }
        }
    }

    @Test("the OpenCL tiles fit 48 KiB of local memory at head sizes up to 128")
    func tilesFitLocalMemory() throws {
        for profile in KernelProfile.allCases {
            let parameters = KernelParameters.defaults(for: profile).attention
            for head in [7, 32, 64, 128] {
                let tiles = try #require(AttentionTiles(headSize: head, parameters: parameters, localBytes: 49152))
                let forward = AttentionTiles.forwardFloats(headSize: head, queries: tiles.forwardQueries, keys: tiles.forwardKeys)
                let backward = AttentionTiles.backwardFloats(headSize: head, own: tiles.backwardOwn, stream: tiles.backwardStream)
                #expect(forward * 4 <= 49152 && backward * 4 <= 49152, "\(profile) head \(head): \(tiles)")
                #expect(tiles.forwardKeys % tiles.chunk == 0 && tiles.backwardStream % tiles.chunk == 0)
                #expect(head % tiles.vectorWidth == 0)
            }
        }
        #expect(AttentionTiles(headSize: 2048, parameters: .portable, localBytes: 32768) == nil)
    }

    @Test("16-bit attention on OpenCL reads and writes its operands in their type: no float32 copies",
          arguments: [DType.bfloat16, .float16], TestDevices.openCLVariants)
    func halfInPlace(dtype: DType, device: Device) throws {
        let s = Shape(batch: 2, heads: 4, queries: 64, keys: 64, headSize: 32)
        let (q, k, v, mask) = Self.inputs(s, seed: 371)
        let qShape = [s.batch, s.heads, s.queries, s.headSize]
        let query = try Tensor(q, shape: qShape, device: device).to(dtype: dtype)
        let key = try Tensor(k, shape: qShape, device: device).to(dtype: dtype)
        let value = try Tensor(v, shape: qShape, device: device).to(dtype: dtype)
        let keyMask = try Tensor(mask, shape: [s.batch, s.keys], device: device)
        let allocator = query.backend.allocator
        _ = try withNoGrad { try query.scaledDotProductAttention(key: key, value: value, keyMask: keyMask) }  // kernels built
        let before = allocator.statistics.liveBytes
        allocator.resetPeak()
        let out = try withNoGrad { try query.scaledDotProductAttention(key: key, value: value, keyMask: keyMask) }
        let added = allocator.statistics.peakLiveBytes - before
        // The output, logsumexp and the op's scratch: 67,584 bytes. Widened through float32 copies of
        // q, k, v and out, the peak was 329,728.
        let operandBytes = q.count * dtype.byteSize
        #expect(added <= 3 * operandBytes, "\(added) bytes at the peak for \(operandBytes)-byte operands")
        #expect(out.dtype == dtype)
    }

    @Test("forward and backward leave no buffer behind", arguments: TestDevices.all)
    func releasesBuffers(device: Device) throws {
        let s = Shape(batch: 2, heads: 2, queries: 10, keys: 12, headSize: 32)
        let (q, k, v, mask) = Self.inputs(s, seed: 361)
        try expectNoLeaks("on \(device)") {
            let dOut = Fixtures.values(q.count, seed: 365)
            _ = try Self.run(q, k, v, mask: mask, s, dOut: dOut, on: device)
        }
    }
}
