import Foundation

/// Row kernels that Swift does not vectorise by itself (floating-point addition is not
/// reassociated): explicit SIMD accumulators.
enum VectorMath {
    /// Σ p[0..<n].
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD16<Float>.zero, acc1 = SIMD16<Float>.zero
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 32 <= n {
            acc0 += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            acc1 += raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
            i += 32
        }
        var total = (acc0 + acc1).sum()
        while i < n {
            total += p[i]
            i += 1
        }
        return total
    }

    /// max p[0..<n] (NaNs are skipped, as `fmax` does); −∞ for an empty row.
    @inline(__always)
    static func max(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var best = -Float.infinity
        for i in 0..<n { best = Float.maximum(best, p[i]) }
        return best
    }

    /// min p[0..<n] (NaNs are skipped); +∞ for an empty row.
    @inline(__always)
    static func min(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var best = Float.infinity
        for i in 0..<n { best = Float.minimum(best, p[i]) }
        return best
    }

    /// Whether value `v` at `j` beats the best so far (NaN counts as largest, first index wins).
    @inline(__always)
    static func argmaxBetter(_ v: Float, _ j: Int, _ best: Float, _ bestIndex: Int) -> Bool {
        if best.isNaN { return v.isNaN && j < bestIndex }
        if v.isNaN { return true }
        return v > best || (v == best && j < bestIndex)
    }
}

extension CPUBackend {
    package func reduce(
        _ op: ReduceOp, _ x: DeviceBuffer, offset: Int, outer: Int, n: Int, inner: Int,
        scale: Float, into out: DeviceBuffer
    ) throws {
        if op != .argmax && out.dtype != .float32 {
            // A 16-bit result: reduce into float32 scratch (one value per result), round each once.
            let results = outer * inner
            let result = try allocator.allocate(count: results, dtype: .float32)
            try reduce(op, x, offset: offset, outer: outer, n: n, inner: inner, scale: scale, into: result)
            try copy(StridedView(contiguous: result, shape: [results]), to: StridedView(contiguous: out, shape: [results]))
            return
        }
        if x.dtype != .float32 { return reduceWidening(op, x, offset: offset, outer: outer, n: n, inner: inner, scale: scale, into: out) }
        let xs = UnsafePointer(x.floats + offset)
        if op == .argmax {
            let os = out.ints
            Parallel.forEach(count: outer * inner, grain: max(1, Self.elementwiseGrain / max(n, 1))) { range in
                for k in range {
                    let o = k / inner, i = k % inner
                    let base = xs + o * n * inner + i
                    var best = -Float.infinity, bestIndex = n
                    for j in 0..<n where VectorMath.argmaxBetter(base[j * inner], j, best, bestIndex) {
                        best = base[j * inner]
                        bestIndex = j
                    }
                    os[k] = Int32(bestIndex < n ? bestIndex : 0)
                }
            }
            return
        }
        let os = out.floats
        if inner == 1 {
            Parallel.forEach(count: outer, grain: max(1, Self.elementwiseGrain / max(n, 1))) { range in
                for o in range {
                    let row = xs + o * n
                    switch op {
                    case .sum: os[o] = VectorMath.sum(row, n) * scale
                    case .max: os[o] = VectorMath.max(row, n) * scale
                    case .min: os[o] = VectorMath.min(row, n) * scale
                    case .argmax: break
                    }
                }
            }
            return
        }
        // Columns: accumulate whole contiguous rows of length `inner`, which vectorises.
        Parallel.forEach(count: outer, grain: max(1, Self.elementwiseGrain / max(n * inner, 1))) { range in
            for o in range {
                let target = os + o * inner
                let block = xs + o * n * inner
                switch op {
                case .sum:
                    target.initialize(repeating: 0, count: inner)
                    for j in 0..<n {
                        let row = block + j * inner
                        for i in 0..<inner { target[i] += row[i] }
                    }
                case .max:
                    target.initialize(repeating: -.infinity, count: inner)
                    for j in 0..<n {
                        let row = block + j * inner
                        for i in 0..<inner { target[i] = Float.maximum(target[i], row[i]) }
                    }
                case .min:
                    target.initialize(repeating: .infinity, count: inner)
                    for j in 0..<n {
                        let row = block + j * inner
                        for i in 0..<inner { target[i] = Float.minimum(target[i], row[i]) }
                    }
                case .argmax: break
                }
                if scale != 1 { for i in 0..<inner { target[i] *= scale } }
            }
        }
    }

    /// ``reduce(_:_:offset:outer:n:inner:scale:into:)`` of 16-bit floats into float32 (or argmax's
    /// int32) results: each row (or block of columns) is widened a tile at a time into stack scratch
    /// and reduced in float32, so no float32 copy of the input is ever made.
    private func reduceWidening(
        _ op: ReduceOp, _ x: DeviceBuffer, offset: Int, outer: Int, n: Int, inner: Int, scale: Float, into out: DeviceBuffer
    ) {
        let tile = ElementAccess.tile, base = x.handle.hostPointer, dtype = x.dtype
        let floats = out.handle.hostPointer.assumingMemoryBound(to: Float.self)
        let ints = out.handle.hostPointer.assumingMemoryBound(to: Int32.self)
        let start: Float = op == .sum ? 0 : op == .min ? .infinity : -.infinity
        if inner == 1 {
            Parallel.forEach(count: outer, grain: max(1, Self.elementwiseGrain / max(n, 1))) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: tile) { scratch in
                    let row = scratch.baseAddress!
                    for o in range {
                        var total = start, bestIndex = n
                        var done = 0
                        while done < n {
                            let m = Swift.min(tile, n - done)
                            ElementAccess.loadFloats(dtype, base, at: offset + o * n + done, step: 1, count: m, into: row)
                            switch op {
                            case .sum: total += VectorMath.sum(row, m)
                            case .max: total = Float.maximum(total, VectorMath.max(row, m))
                            case .min: total = Float.minimum(total, VectorMath.min(row, m))
                            case .argmax:
                                for j in 0..<m where VectorMath.argmaxBetter(row[j], done + j, total, bestIndex) {
                                    (total, bestIndex) = (row[j], done + j)
                                }
                            }
                            done += m
                        }
                        if op == .argmax { ints[o] = Int32(bestIndex < n ? bestIndex : 0) } else { floats[o] = total * scale }
                    }
                }
            }
            return
        }
        // Columns: a block of up to `tile` columns at a time, its rows accumulated in order.
        Parallel.forEach(count: outer, grain: max(1, Self.elementwiseGrain / max(n * inner, 1))) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * tile) { scratch in
                let row = scratch.baseAddress!, best = row + tile
                for o in range {
                    var column = 0
                    while column < inner {
                        let m = Swift.min(tile, inner - column)
                        let target = op == .argmax ? best : floats + o * inner + column
                        target.initialize(repeating: start, count: m)
                        let indices = ints + o * inner + column
                        if op == .argmax { indices.initialize(repeating: Int32(n), count: m) }
                        for j in 0..<n {
                            ElementAccess.loadFloats(dtype, base, at: offset + (o * n + j) * inner + column, step: 1, count: m, into: row)
                            switch op {
                            case .sum: for i in 0..<m { target[i] += row[i] }
                            case .max: for i in 0..<m { target[i] = Float.maximum(target[i], row[i]) }
                            case .min: for i in 0..<m { target[i] = Float.minimum(target[i], row[i]) }
                            case .argmax:
                                for i in 0..<m where VectorMath.argmaxBetter(row[i], j, target[i], Int(indices[i])) {
                                    (target[i], indices[i]) = (row[i], Int32(j))
                                }
                            }
                        }
                        if op == .argmax {
                            for i in 0..<m where indices[i] == Int32(n) { indices[i] = 0 }
                        } else if scale != 1 {
                            for i in 0..<m { target[i] *= scale }
                        }
                        column += m
                    }
                }
            }
        }
    }

    package func gather(
        _ x: DeviceBuffer, indices: DeviceBuffer, outer: Int, n: Int, inner: Int, into out: DeviceBuffer
    ) throws {
        if x.dtype.isHalf {
            return try widening([x, indices], into: [out]) { b in
                try gather(b[0]!, indices: b[1]!, outer: outer, n: n, inner: inner, into: b[2]!)
            }
        }
        let xs = x.floats, idx = indices.ints, os = out.floats
        for o in 0..<outer {
            for i in 0..<inner {
                let j = Int(idx[o * inner + i])
                os[o * inner + i] = j >= 0 && j < n ? xs[(o * n + j) * inner + i] : 0
            }
        }
    }

    package func scatter(
        _ values: DeviceBuffer, indices: DeviceBuffer, outer: Int, n: Int, inner: Int, into out: DeviceBuffer
    ) throws {
        if values.dtype.isHalf {
            return try widening([values, indices], into: [out]) { b in
                try scatter(b[0]!, indices: b[1]!, outer: outer, n: n, inner: inner, into: b[2]!)
            }
        }
        let vs = values.floats, idx = indices.ints, os = out.floats
        memset(os, 0, outer * n * inner * 4)
        for o in 0..<outer {
            for i in 0..<inner {
                let j = Int(idx[o * inner + i])
                if j >= 0 && j < n { os[(o * n + j) * inner + i] = vs[o * inner + i] }
            }
        }
    }

    package func softmax(
        _ x: DeviceBuffer, outer: Int, n: Int, inner: Int, log: Bool, into out: DeviceBuffer
    ) throws {
        if x.dtype.isHalf {
            return try widening([x], into: [out]) { b in try softmax(b[0]!, outer: outer, n: n, inner: inner, log: log, into: b[1]!) }
        }
        let xs = x.floats, os = out.floats
        Parallel.forEach(count: outer * inner, grain: max(1, Self.transcendentalGrain / max(n, 1))) { range in
            for k in range {
                let o = k / inner, i = k % inner
                let base = o * n * inner + i
                var m = -Float.infinity
                for j in 0..<n { m = Float.maximum(m, xs[base + j * inner]) }
                var total: Float = 0
                for j in 0..<n { total += Foundation.exp(xs[base + j * inner] - m) }
                if log {
                    let logTotal = Foundation.log(total) + m
                    for j in 0..<n { os[base + j * inner] = xs[base + j * inner] - logTotal }
                } else {
                    let inverse = 1 / total
                    for j in 0..<n { os[base + j * inner] = Foundation.exp(xs[base + j * inner] - m) * inverse }
                }
            }
        }
    }

    package func softmaxBackward(
        _ y: DeviceBuffer, _ dy: DeviceBuffer, outer: Int, n: Int, inner: Int, log: Bool, into dx: DeviceBuffer
    ) throws {
        if y.dtype.isHalf {
            return try widening([y, dy], into: [dx]) { b in
                try softmaxBackward(b[0]!, b[1]!, outer: outer, n: n, inner: inner, log: log, into: b[2]!)
            }
        }
        let ys = y.floats, gs = dy.floats, ds = dx.floats
        Parallel.forEach(count: outer * inner, grain: max(1, Self.transcendentalGrain / max(n, 1))) { range in
            for k in range {
                let o = k / inner, i = k % inner
                let base = o * n * inner + i
                var total: Float = 0
                if log {
                    for j in 0..<n { total += gs[base + j * inner] }
                    for j in 0..<n {
                        let at = base + j * inner
                        ds[at] = gs[at] - Foundation.exp(ys[at]) * total
                    }
                } else {
                    for j in 0..<n { total += gs[base + j * inner] * ys[base + j * inner] }
                    for j in 0..<n {
                        let at = base + j * inner
                        ds[at] = ys[at] * (gs[at] - total)
                    }
                }
            }
        }
    }
}
