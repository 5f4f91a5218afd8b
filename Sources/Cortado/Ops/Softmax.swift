extension Tensor {
    /// eˣ / Σ eˣ along `axis`, computed stably (the maximum is subtracted first).
    public func softmax(axis: Int = -1) throws -> Tensor {
        try softmax(axis: axis, log: false)
    }

    /// log(softmax(x)) along `axis`, computed stably as `x − max − log Σ e^(x − max)`.
    public func logSoftmax(axis: Int = -1) throws -> Tensor {
        try softmax(axis: axis, log: true)
    }

    private func softmax(axis rawAxis: Int, log: Bool) throws -> Tensor {
        try requireSupport(.softmax, log ? "logSoftmax" : "softmax")
        let a = try axis(rawAxis, "softmax")
        let (outer, n, inner) = (shape[..<a].reduce(1, *), rank == 0 ? 1 : shape[a], rank == 0 ? 1 : shape[(a + 1)...].reduce(1, *))
        let source = try dense()
        let out = try Tensor.empty(shape, dtype: dtype, on: backend)
        try backend.softmax(source.buffer, outer: outer, n: n, inner: inner, log: log, into: out.buffer)
        let y = out.detached()
        return out.recordingGradient(log ? "log_softmax" : "softmax", [self]) { g in
            let dy = try g.dense()
            let dx = try Tensor.empty(y.shape, dtype: y.dtype, on: y.backend)
            try y.backend.softmaxBackward(y.buffer, dy.buffer, outer: outer, n: n, inner: inner, log: log, into: dx.buffer)
            return [dx]
        }
    }
}
