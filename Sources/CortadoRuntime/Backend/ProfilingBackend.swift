import Foundation

/// A backend that forwards every operation to another and records it, with its device, its host
/// time and (on OpenCL) the kernels it launched, into ``Profiler/current``: what `--profile` uses.
///
/// ``DeviceRegistry`` puts it in front of a device's backend only when ``OperationProfiling`` was
/// enabled before the device's first use, so a run without `--profile` pays nothing for it.
final class ProfilingBackend: Backend, @unchecked Sendable {
    /// The backend doing the work.
    let base: any Backend
    var device: Device { base.device }
    var allocator: CachingAllocator { base.allocator }

    init(_ base: any Backend) {
        self.base = base
    }

    /// `relu` for `UnaryOp.relu`, `mulScalar` for `.mulScalar(2)`: the case without its values.
    static func label(_ value: Any) -> String {
        String(String(describing: value).prefix { $0 != "(" })
    }

    /// Runs `body` (one operation named `name`) and records it, with the kernels it launched.
    private func record(_ name: String, _ body: () throws -> Void) throws {
        guard let profiler = Profiler.current else { return try body() }
        let openCL = base.unwrapped as? OpenCLBackend
        openCL?.beginOperation(name)
        let start = profiler.now()
        defer {
            let kernels = openCL?.endOperation() ?? []
            profiler.recordOperation(name, device: device.id, kernels: kernels, since: start)
        }
        try body()
    }

    func supports(_ operation: BackendOperation, _ dtype: DType) -> Bool { base.supports(operation, dtype) }

    func write(_ bytes: UnsafeRawBufferPointer, to buffer: DeviceBuffer, atByte: Int) throws {
        try record("write") { try base.write(bytes, to: buffer, atByte: atByte) }
    }

    func read(_ buffer: DeviceBuffer, atByte: Int, into bytes: UnsafeMutableRawBufferPointer) throws {
        try record("read") { try base.read(buffer, atByte: atByte, into: bytes) }
        flushKernels()
    }

    func makeHostStaging(bytes: Int) throws -> HostStaging { try base.makeHostStaging(bytes: bytes) }

    func synchronize() throws {
        try base.synchronize()
        flushKernels()
    }

    /// After the host waited for the device: the finished kernels' device times into the profile.
    private func flushKernels() {
        guard let profiler = Profiler.current, let openCL = base.unwrapped as? OpenCLBackend else { return }
        openCL.flushKernelTrace(into: profiler)
    }

    func fill(_ buffer: DeviceBuffer, offset: Int, count: Int, value: Double) throws {
        try record("fill") { try base.fill(buffer, offset: offset, count: count, value: value) }
    }

    func copy(_ source: StridedView, to destination: StridedView) throws {
        try record("copy") { try base.copy(source, to: destination) }
    }

    func unary(_ op: UnaryOp, _ x: StridedView, into out: StridedView) throws {
        try record("unary " + Self.label(op)) { try base.unary(op, x, into: out) }
    }

    func binary(_ op: BinaryOp, _ a: StridedView, _ b: StridedView, into out: StridedView) throws {
        try record("binary " + Self.label(op)) { try base.binary(op, a, b, into: out) }
    }

    func reduce(_ op: ReduceOp, _ x: DeviceBuffer, offset: Int, outer: Int, n: Int, inner: Int, scale: Float, into out: DeviceBuffer) throws {
        try record("reduce " + Self.label(op)) { try base.reduce(op, x, offset: offset, outer: outer, n: n, inner: inner, scale: scale, into: out) }
    }

    func gather(_ x: DeviceBuffer, indices: DeviceBuffer, outer: Int, n: Int, inner: Int, into out: DeviceBuffer) throws {
        try record("gather") { try base.gather(x, indices: indices, outer: outer, n: n, inner: inner, into: out) }
    }

    func scatter(_ values: DeviceBuffer, indices: DeviceBuffer, outer: Int, n: Int, inner: Int, into out: DeviceBuffer) throws {
        try record("scatter") { try base.scatter(values, indices: indices, outer: outer, n: n, inner: inner, into: out) }
    }

    func gemm(_ descriptor: GemmDescriptor, _ a: MatrixOperand, _ b: MatrixOperand, _ c: MatrixOperand) throws {
        try record("gemm") { try base.gemm(descriptor, a, b, c) }
    }

    func softmax(_ x: DeviceBuffer, outer: Int, n: Int, inner: Int, log: Bool, into out: DeviceBuffer) throws {
        try record("softmax") { try base.softmax(x, outer: outer, n: n, inner: inner, log: log, into: out) }
    }

    func softmaxBackward(_ y: DeviceBuffer, _ dy: DeviceBuffer, outer: Int, n: Int, inner: Int, log: Bool, into dx: DeviceBuffer) throws {
        try record("softmaxBackward") { try base.softmaxBackward(y, dy, outer: outer, n: n, inner: inner, log: log, into: dx) }
    }

    func layerNorm(_ x: DeviceBuffer, weight: DeviceBuffer?, bias: DeviceBuffer?, rows: Int, width: Int, epsilon: Float, into y: DeviceBuffer, mean: DeviceBuffer, rstd: DeviceBuffer) throws {
        try record("layerNorm") { try base.layerNorm(x, weight: weight, bias: bias, rows: rows, width: width, epsilon: epsilon, into: y, mean: mean, rstd: rstd) }
    }

    func layerNormBackward(_ x: DeviceBuffer, weight: DeviceBuffer?, mean: DeviceBuffer, rstd: DeviceBuffer, dy: DeviceBuffer, rows: Int, width: Int, dx: DeviceBuffer, dWeight: DeviceBuffer?, dBias: DeviceBuffer?) throws {
        try record("layerNormBackward") { try base.layerNormBackward(x, weight: weight, mean: mean, rstd: rstd, dy: dy, rows: rows, width: width, dx: dx, dWeight: dWeight, dBias: dBias) }
    }

    func attention(_ q: DeviceBuffer, _ k: DeviceBuffer, _ v: DeviceBuffer, keyMask: DeviceBuffer?, _ geometry: AttentionGeometry, into out: DeviceBuffer, logsumexp: DeviceBuffer) throws {
        try record("attention") { try base.attention(q, k, v, keyMask: keyMask, geometry, into: out, logsumexp: logsumexp) }
    }

    func attentionBackward(_ q: DeviceBuffer, _ k: DeviceBuffer, _ v: DeviceBuffer, keyMask: DeviceBuffer?, _ geometry: AttentionGeometry, out: DeviceBuffer, dOut: DeviceBuffer, logsumexp: DeviceBuffer, dq: DeviceBuffer, dk: DeviceBuffer, dv: DeviceBuffer) throws {
        try record("attentionBackward") { try base.attentionBackward(q, k, v, keyMask: keyMask, geometry, out: out, dOut: dOut, logsumexp: logsumexp, dq: dq, dk: dk, dv: dv) }
    }

    func im2col(_ x: DeviceBuffer, _ geometry: ConvGeometry, into cols: DeviceBuffer) throws {
        try record("im2col") { try base.im2col(x, geometry, into: cols) }
    }

    func col2im(_ cols: DeviceBuffer, _ geometry: ConvGeometry, into x: DeviceBuffer) throws {
        try record("col2im") { try base.col2im(cols, geometry, into: x) }
    }

    func maxPool(_ x: DeviceBuffer, _ geometry: PoolGeometry, into y: DeviceBuffer, indices: DeviceBuffer) throws {
        try record("maxPool") { try base.maxPool(x, geometry, into: y, indices: indices) }
    }

    func maxPoolBackward(_ dy: DeviceBuffer, indices: DeviceBuffer, _ geometry: PoolGeometry, into dx: DeviceBuffer) throws {
        try record("maxPoolBackward") { try base.maxPoolBackward(dy, indices: indices, geometry, into: dx) }
    }

    func avgPool(_ x: DeviceBuffer, _ geometry: PoolGeometry, into y: DeviceBuffer) throws {
        try record("avgPool") { try base.avgPool(x, geometry, into: y) }
    }

    func avgPoolBackward(_ dy: DeviceBuffer, _ geometry: PoolGeometry, into dx: DeviceBuffer) throws {
        try record("avgPoolBackward") { try base.avgPoolBackward(dy, geometry, into: dx) }
    }

    func random(_ distribution: Distribution, seed: UInt64, counter: UInt64, into buffer: DeviceBuffer, offset: Int, count: Int) throws {
        try record("random " + Self.label(distribution)) { try base.random(distribution, seed: seed, counter: counter, into: buffer, offset: offset, count: count) }
    }

    func gatherRows(_ table: DeviceBuffer, firstRow: Int, tableRows: Int, indices: DeviceBuffer, count: Int, width: Int, into out: DeviceBuffer, keepingOthers: Bool) throws {
        try record("gatherRows") { try base.gatherRows(table, firstRow: firstRow, tableRows: tableRows, indices: indices, count: count, width: width, into: out, keepingOthers: keepingOthers) }
    }

    func scatterAddRows(_ values: DeviceBuffer, indices: DeviceBuffer, count: Int, width: Int, firstRow: Int, tableRows: Int, into out: DeviceBuffer) throws {
        try record("scatterAddRows") { try base.scatterAddRows(values, indices: indices, count: count, width: width, firstRow: firstRow, tableRows: tableRows, into: out) }
    }

    func crossEntropy(_ logits: DeviceBuffer, labels: DeviceBuffer, rows: Int, classes: Int, losses: DeviceBuffer, probabilities: DeviceBuffer) throws {
        try record("crossEntropy") { try base.crossEntropy(logits, labels: labels, rows: rows, classes: classes, losses: losses, probabilities: probabilities) }
    }

    func crossEntropyBackward(_ probabilities: DeviceBuffer, labels: DeviceBuffer, dloss: DeviceBuffer, rows: Int, classes: Int, into dlogits: DeviceBuffer) throws {
        try record("crossEntropyBackward") { try base.crossEntropyBackward(probabilities, labels: labels, dloss: dloss, rows: rows, classes: classes, into: dlogits) }
    }

    func recurrentForward(_ sequence: RecurrentSequence, outputs: DeviceBuffer) throws {
        try record("recurrentForward") { try base.recurrentForward(sequence, outputs: outputs) }
    }

    func recurrentBackward(_ sequence: RecurrentSequence, dOutputs: DeviceBuffer, dGatesByStep: DeviceBuffer, dProjected: DeviceBuffer) throws {
        try record("recurrentBackward") { try base.recurrentBackward(sequence, dOutputs: dOutputs, dGatesByStep: dGatesByStep, dProjected: dProjected) }
    }

    func update(_ rule: UpdateRule, parameter: DeviceBuffer, gradient: DeviceBuffer, state: [DeviceBuffer], count: Int) throws {
        try record("update " + Self.label(rule)) { try base.update(rule, parameter: parameter, gradient: gradient, state: state, count: count) }
    }

    func quantizedGemm(_ descriptor: QuantizedGemmDescriptor, _ a: DeviceBuffer, aScales: DeviceBuffer, _ w: DeviceBuffer, wScales: DeviceBuffer, bias: DeviceBuffer?, into out: DeviceBuffer) throws {
        try record("quantizedGemm") { try base.quantizedGemm(descriptor, a, aScales: aScales, w, wScales: wScales, bias: bias, into: out) }
    }

    func quantizeRows(
        _ x: DeviceBuffer, rows: Int, width: Int, block: Int, fixed: DeviceBuffer?, multipliers: DeviceBuffer?,
        into q: DeviceBuffer, scales: DeviceBuffer
    ) throws {
        try record("quantizeRows") {
            try base.quantizeRows(
                x, rows: rows, width: width, block: block, fixed: fixed, multipliers: multipliers, into: q, scales: scales)
        }
    }
}
