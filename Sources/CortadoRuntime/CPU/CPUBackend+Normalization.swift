/// Row loops of LayerNorm with explicit SIMD accumulators (Swift does not reassociate float sums).
enum NormalizationRows {
    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> V {
        UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
    }

    @inline(__always)
    static func store(_ value: V, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: value, as: V.self)
    }

    /// The mean and biased variance of a row from a first estimate `mean` of the mean: with
    /// `d = p[i] − mean`, the corrected mean is `mean + Σd/n` and the variance `(Σd² − (Σd)²/n)/n`
    /// (the corrected two-pass algorithm: the first sum's rounding error, which grows with the
    /// mean's magnitude, cancels).
    @inline(__always)
    static func moments(_ p: UnsafePointer<Float>, _ n: Int, mean: Float) -> (mean: Float, variance: Float) {
        var (sum, squares) = (V.zero, V.zero)
        let m = V(repeating: mean)
        var i = 0
        while i + 16 <= n {
            let d = load(p, i) - m
            sum += d
            squares += d * d
            i += 16
        }
        var (totalSum, totalSquares) = (sum.sum(), squares.sum())
        while i < n {
            let d = p[i] - mean
            totalSum += d
            totalSquares += d * d
            i += 1
        }
        let count = Float(n)
        return (mean + totalSum / count, Swift.max((totalSquares - totalSum * totalSum / count) / count, 0))
    }

    /// `y = (x − mean) · rstd · weight + bias` along one row.
    @inline(__always)
    static func normalize(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, mean: Float, rstd: Float,
        weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?
    ) {
        let (m, r) = (V(repeating: mean), V(repeating: rstd))
        var i = 0
        while i + 16 <= n {
            var v = (load(x, i) - m) * r
            if let weight { v *= load(weight, i) }
            if let bias { v += load(bias, i) }
            store(v, y, i)
            i += 16
        }
        while i < n {
            var v = (x[i] - mean) * rstd
            if let weight { v *= weight[i] }
            if let bias { v += bias[i] }
            y[i] = v
            i += 1
        }
    }

    /// One row's input gradient, `dx = rstd · (g − mean(g) − x̂ · mean(g·x̂))` with `g = dy · weight`,
    /// adding `dy · x̂` and `dy` into the block's partial sums `dWeight` and `dBias` when given.
    @inline(__always)
    static func backward(
        _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int,
        mean: Float, rstd: Float, weight: UnsafePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?,
        dBias: UnsafeMutablePointer<Float>?
    ) {
        let (m, r) = (V(repeating: mean), V(repeating: rstd))
        var (sumG, sumGX) = (V.zero, V.zero)
        var i = 0
        while i + 16 <= n {
            var g = load(dy, i)
            if let weight { g *= load(weight, i) }
            sumG += g
            sumGX += g * (load(x, i) - m) * r
            i += 16
        }
        var (totalG, totalGX) = (sumG.sum(), sumGX.sum())
        for j in i..<n {
            let g = weight.map { dy[j] * $0[j] } ?? dy[j]
            totalG += g
            totalGX += g * (x[j] - mean) * rstd
        }
        let (meanG, meanGX) = (totalG / Float(n), totalGX / Float(n))
        let (mg, mgx) = (V(repeating: meanG), V(repeating: meanGX))
        i = 0
        while i + 16 <= n {
            let d = load(dy, i)
            let g = weight.map { d * load($0, i) } ?? d
            let xhat = (load(x, i) - m) * r
            store(r * (g - mg - xhat * mgx), dx, i)
            if let dWeight { store(load(dWeight, i) + d * xhat, dWeight, i) }
            if let dBias { store(load(dBias, i) + d, dBias, i) }
            i += 16
        }
        for j in i..<n {
            let g = weight.map { dy[j] * $0[j] } ?? dy[j]
            let xhat = (x[j] - mean) * rstd
            dx[j] = rstd * (g - meanG - xhat * meanGX)
            dWeight?[j] += dy[j] * xhat
            dBias?[j] += dy[j]
        }
    }
}

extension CPUBackend {
    /// Rows per partial sum of the LayerNorm weight and bias gradients: fixed, so the summation
    /// order (and the result) does not depend on the number of cores.
    static let layerNormBlockRows = 32

    /// Rows split over the cores; each row's moments in two vectorised passes, then the output.
    package func layerNorm(
        _ x: DeviceBuffer, weight: DeviceBuffer?, bias: DeviceBuffer?, rows: Int, width: Int, epsilon: Float,
        into y: DeviceBuffer, mean: DeviceBuffer, rstd: DeviceBuffer
    ) throws {
        if x.dtype.isHalf { return try layerNormHalf(x, weight: weight, bias: bias, rows: rows, width: width, epsilon: epsilon, into: y, mean: mean, rstd: rstd) }
        let (xs, ys, means, rstds) = (UnsafePointer(x.floats), y.floats, mean.floats, rstd.floats)
        let (w, b) = (weight.map { UnsafePointer($0.floats) }, bias.map { UnsafePointer($0.floats) })
        Parallel.forEach(count: rows, grain: max(1, Self.elementwiseGrain / max(width, 1))) { range in
            for row in range {
                let (input, output) = (xs + row * width, ys + row * width)
                let estimate = VectorMath.sum(input, width) / Float(width)
                let (mu, variance) = NormalizationRows.moments(input, width, mean: estimate)
                let r = 1 / (variance + epsilon).squareRoot()
                means[row] = mu
                rstds[row] = r
                NormalizationRows.normalize(input, output, width, mean: mu, rstd: r, weight: w, bias: b)
            }
        }
    }

    /// Blocks of rows split over the cores: each block writes its rows' `dx` and its partial sums
    /// of the weight and bias gradients, which are then added in block order.
    package func layerNormBackward(
        _ x: DeviceBuffer, weight: DeviceBuffer?, mean: DeviceBuffer, rstd: DeviceBuffer, dy: DeviceBuffer,
        rows: Int, width: Int, dx: DeviceBuffer, dWeight: DeviceBuffer?, dBias: DeviceBuffer?
    ) throws {
        let wide = x.dtype.isHalf
        // 16-bit rows are widened one at a time into per-core scratch; the sums stay float32.
        let (xs, gs, dxs) = wide ? (nil, nil, nil) : (UnsafePointer(x.floats), UnsafePointer(dy.floats), dx.floats)
        let weights = try weight.map { try floatCopy(of: $0) }
        let (means, rstds, w) = (mean.floats, rstd.floats, weights.map { UnsafePointer($0.floats) })
        let blockRows = Self.layerNormBlockRows
        let blocks = (rows + blockRows - 1) / blockRows
        let wantsParameters = dWeight != nil || dBias != nil
        // Per block: the partial Σ dy·x̂ then Σ dy, [blocks, 2, width].
        let partial = wantsParameters ? try allocator.allocate(count: max(blocks * 2 * width, 1), dtype: .float32) : nil
        let partials = partial?.floats
        defer { withExtendedLifetime((partial, weights)) {} }  // `partials` and `w` point into them
        Parallel.forEach(count: blocks, grain: max(1, Self.elementwiseGrain / max(blockRows * width, 1))) { range in
            // Heap scratch: `withUnsafeTemporaryAllocation` in this function was miscompiled by
            // Swift 6.3.1 -O (it freed a pointer into a live object), see the check in .ci/run.
            let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: wide ? 3 * width : 0)
            defer { scratch.deallocate() }
            do {
                for block in range {
                    let sums = partials.map { $0 + block * 2 * width }
                    sums?.initialize(repeating: 0, count: 2 * width)
                    for row in (block * blockRows)..<min((block + 1) * blockRows, rows) {
                        let at = row * width
                        guard wide, let rowX = scratch.baseAddress else {
                            NormalizationRows.backward(
                                xs! + at, gs! + at, dxs! + at, width, mean: means[row], rstd: rstds[row], weight: w,
                                dWeight: sums, dBias: sums.map { $0 + width })
                            continue
                        }
                        let (rowDy, rowDx) = (rowX + width, rowX + 2 * width)
                        ElementAccess.loadFloats(x.dtype, x.handle.hostPointer, at: at, step: 1, count: width, into: rowX)
                        ElementAccess.loadFloats(dy.dtype, dy.handle.hostPointer, at: at, step: 1, count: width, into: rowDy)
                        NormalizationRows.backward(
                            rowX, rowDy, rowDx, width, mean: means[row], rstd: rstds[row], weight: w,
                            dWeight: sums, dBias: sums.map { $0 + width })
                        ElementAccess.storeFloats(rowDx, count: width, as: dx.dtype, dx.handle.hostPointer, at: at, step: 1)
                    }
                }
            }
        }
        for (which, target) in [dWeight, dBias].enumerated() {
            guard let target, let partials else { continue }
            let sum = UnsafeMutablePointer<Float>.allocate(capacity: width)
            defer { sum.deallocate() }
            sum.initialize(repeating: 0, count: width)
            for block in 0..<blocks {
                let source = partials + (block * 2 + which) * width
                for column in 0..<width { sum[column] += source[column] }
            }
            ElementAccess.storeFloats(sum, count: width, as: target.dtype, target.handle.hostPointer, at: 0, step: 1)
        }
    }

    /// LayerNorm of 16-bit rows: each row widened into per-core scratch, normalised in float32, and
    /// rounded back (the statistics are float32).
    private func layerNormHalf(
        _ x: DeviceBuffer, weight: DeviceBuffer?, bias: DeviceBuffer?, rows: Int, width: Int, epsilon: Float,
        into y: DeviceBuffer, mean: DeviceBuffer, rstd: DeviceBuffer
    ) throws {
        let (weights, biases) = (try weight.map { try floatCopy(of: $0) }, try bias.map { try floatCopy(of: $0) })
        defer { withExtendedLifetime((weights, biases)) {} }  // `w` and `b` point into them
        let (w, b) = (weights.map { UnsafePointer($0.floats) }, biases.map { UnsafePointer($0.floats) })
        let (means, rstds) = (mean.floats, rstd.floats)
        Parallel.forEach(count: rows, grain: max(1, Self.elementwiseGrain / max(width, 1))) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * width) { scratch in
                guard let input = scratch.baseAddress else { return }
                let output = input + width
                for row in range {
                    ElementAccess.loadFloats(x.dtype, x.handle.hostPointer, at: row * width, step: 1, count: width, into: input)
                    let estimate = VectorMath.sum(input, width) / Float(width)
                    let (mu, variance) = NormalizationRows.moments(input, width, mean: estimate)
                    let r = 1 / (variance + epsilon).squareRoot()
                    means[row] = mu
                    rstds[row] = r
                    NormalizationRows.normalize(input, output, width, mean: mu, rstd: r, weight: w, bias: b)
                    ElementAccess.storeFloats(output, count: width, as: y.dtype, y.handle.hostPointer, at: row * width, step: 1)
                }
            }
        }
    }

    /// `buffer` itself when it holds float32, else a float32 copy (a short parameter vector).
    func floatCopy(of buffer: DeviceBuffer) throws -> DeviceBuffer {
        guard buffer.dtype != .float32 else { return buffer }
        let copy = try allocator.allocate(count: buffer.count, dtype: .float32)
        try self.copy(StridedView(contiguous: buffer, shape: [buffer.count]), to: StridedView(contiguous: copy, shape: [copy.count]))
        return copy
    }
}
