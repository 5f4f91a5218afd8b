/// The CPU's arithmetic on 16-bit float storage: each operand's elements are widened a tile at a
/// time into `float32` scratch on the stack, the `float32` function runs over the tile, and the
/// result is rounded back on store. Memory traffic is that of the narrow type; the arithmetic and
/// its rounding are exactly those of `float32` followed by one conversion.
extension CPUBackend {
    /// A tile's worth of work: the widened inputs (one or two), the output tile, the element count.
    typealias TileFunction = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

    /// Runs `compute` over `inputs` (one or two views broadcast to `out`'s shape) tile by tile.
    func widening(_ inputs: [StridedView], into out: StridedView, grain: Int, _ compute: TileFunction) {
        let tile = ElementAccess.tile
        let pointers = inputs.map { $0.buffer.handle.hostPointer }
        let types = inputs.map(\.dtype)
        let outPointer = out.buffer.handle.hostPointer, outType = out.dtype, lane = inputs.count
        func body(_ at: SIMD4<Int>, _ step: SIMD4<Int>, _ n: Int) {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * tile) { scratch in
                let a = scratch.baseAddress!, b = a + tile, result = b + tile
                var done = 0
                while done < n {
                    let m = Swift.min(tile, n - done)
                    ElementAccess.loadFloats(types[0], pointers[0], at: at[0] + done * step[0], step: step[0], count: m, into: a)
                    if lane > 1 {
                        ElementAccess.loadFloats(types[1], pointers[1], at: at[1] + done * step[1], step: step[1], count: m, into: b)
                    }
                    compute(a, b, result, m)
                    ElementAccess.storeFloats(
                        result, count: m, as: outType, outPointer, at: at[lane] + done * step[lane], step: step[lane])
                    done += m
                }
            }
        }
        if inputs.allSatisfy({ $0.shape == out.shape && $0.isContiguous }) && out.isContiguous {
            var base = SIMD4<Int>.zero, unit = SIMD4<Int>.zero
            for (index, view) in (inputs + [out]).enumerated() {
                base[index] = view.offset
                unit[index] = 1
            }
            Parallel.forEach(count: out.count, grain: grain) { range in
                body(base &+ unit &* range.lowerBound, unit, range.count)
            }
            return
        }
        let (shape, strides, base) = StridedRows.layout(out.shape, inputs + [out])
        StridedRows.forEach(shape: shape, strides: strides, base: base, grain: grain, body)
    }
}
