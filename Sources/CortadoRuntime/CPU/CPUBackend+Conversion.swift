import Foundation

/// Reads and writes runs of elements of any ``DType`` as `float32` or `int64` values: the typed
/// loads and stores behind the CPU's conversions (``CPUBackend/copy(_:to:)``) and its half-precision
/// arithmetic, which widens a tile of each operand, computes in `float32` and rounds on store.
package enum ElementAccess {
    /// Elements per tile of the widening loops: small enough for the stack and the L1 cache.
    package static let tile = 1024

    /// Reads `count` elements of `dtype` at element `index` of `base`, `step` elements apart, as floats.
    @inline(__always)
    package static func loadFloats(
        _ dtype: DType, _ base: UnsafeMutableRawPointer, at index: Int, step: Int, count: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        switch dtype {
        case .float32:
            let p = base.assumingMemoryBound(to: Float.self) + index
            if step == 1 { out.update(from: p, count: count) } else { for j in 0..<count { out[j] = p[j * step] } }
        case .float16, .bfloat16:
            let p = base.assumingMemoryBound(to: UInt16.self) + index
            if step == 1 {
                HalfConversion.widen(p, into: out, count: count, from: dtype)
            } else if step == 0 {
                HalfConversion.widen(p, into: out, count: 1, from: dtype)
                out.update(repeating: out[0], count: count)
            } else {
                withUnsafeTemporaryAllocation(of: UInt16.self, capacity: count) { bits in
                    for j in 0..<count { bits[j] = p[j * step] }
                    HalfConversion.widen(bits.baseAddress!, into: out, count: count, from: dtype)
                }
            }
        case .int8: gather(base.assumingMemoryBound(to: Int8.self) + index, step, count, out) { Float($0) }
        case .uint8: gather(base.assumingMemoryBound(to: UInt8.self) + index, step, count, out) { Float($0) }
        case .int32: gather(base.assumingMemoryBound(to: Int32.self) + index, step, count, out) { Float($0) }
        case .int64: gather(base.assumingMemoryBound(to: Int64.self) + index, step, count, out) { Float($0) }
        }
    }

    /// Writes `count` floats as elements of `dtype` at element `index` of `base`, `step` apart
    /// (round to nearest even for floats; toward zero with saturation, NaN as 0, for integers).
    @inline(__always)
    package static func storeFloats(
        _ values: UnsafePointer<Float>, count: Int, as dtype: DType, _ base: UnsafeMutableRawPointer, at index: Int, step: Int
    ) {
        switch dtype {
        case .float32:
            let p = base.assumingMemoryBound(to: Float.self) + index
            if step == 1 { p.update(from: values, count: count) } else { for j in 0..<count { p[j * step] = values[j] } }
        case .float16, .bfloat16:
            let p = base.assumingMemoryBound(to: UInt16.self) + index
            if step == 1 {
                HalfConversion.narrow(values, into: p, count: count, to: dtype)
            } else {
                withUnsafeTemporaryAllocation(of: UInt16.self, capacity: count) { bits in
                    HalfConversion.narrow(values, into: bits.baseAddress!, count: count, to: dtype)
                    for j in 0..<count { p[j * step] = bits[j] }
                }
            }
        case .int8: scatter(values, count, base.assumingMemoryBound(to: Int8.self) + index, step) { Int8(saturating: Double($0)) }
        case .uint8: scatter(values, count, base.assumingMemoryBound(to: UInt8.self) + index, step) { UInt8(saturating: Double($0)) }
        case .int32: scatter(values, count, base.assumingMemoryBound(to: Int32.self) + index, step) { Int32(saturating: Double($0)) }
        case .int64: scatter(values, count, base.assumingMemoryBound(to: Int64.self) + index, step) { Int64(saturating: Double($0)) }
        }
    }

    /// Reads `count` integer elements of `dtype` (not a float type) as `Int64`.
    package static func loadIntegers(
        _ dtype: DType, _ base: UnsafeMutableRawPointer, at index: Int, step: Int, count: Int,
        into out: UnsafeMutablePointer<Int64>
    ) {
        switch dtype {
        case .int8: gather(base.assumingMemoryBound(to: Int8.self) + index, step, count, out) { Int64($0) }
        case .uint8: gather(base.assumingMemoryBound(to: UInt8.self) + index, step, count, out) { Int64($0) }
        case .int32: gather(base.assumingMemoryBound(to: Int32.self) + index, step, count, out) { Int64($0) }
        case .int64: gather(base.assumingMemoryBound(to: Int64.self) + index, step, count, out) { $0 }
        case .float32, .float16, .bfloat16: preconditionFailure("loadIntegers of \(dtype)")
        }
    }

    /// Writes `count` `Int64` values as integer elements of `dtype`, saturating.
    package static func storeIntegers(
        _ values: UnsafePointer<Int64>, count: Int, as dtype: DType, _ base: UnsafeMutableRawPointer, at index: Int, step: Int
    ) {
        switch dtype {
        case .int8: scatter(values, count, base.assumingMemoryBound(to: Int8.self) + index, step) { Int8(clamping: $0) }
        case .uint8: scatter(values, count, base.assumingMemoryBound(to: UInt8.self) + index, step) { UInt8(clamping: $0) }
        case .int32: scatter(values, count, base.assumingMemoryBound(to: Int32.self) + index, step) { Int32(clamping: $0) }
        case .int64: scatter(values, count, base.assumingMemoryBound(to: Int64.self) + index, step) { $0 }
        case .float32, .float16, .bfloat16: preconditionFailure("storeIntegers of \(dtype)")
        }
    }

    @inline(__always)
    private static func gather<Source, Value>(
        _ p: UnsafeMutablePointer<Source>, _ step: Int, _ count: Int, _ out: UnsafeMutablePointer<Value>,
        _ convert: (Source) -> Value
    ) {
        for j in 0..<count { out[j] = convert(p[j * step]) }
    }

    @inline(__always)
    private static func scatter<Value, Target>(
        _ values: UnsafePointer<Value>, _ count: Int, _ p: UnsafeMutablePointer<Target>, _ step: Int,
        _ convert: (Value) -> Target
    ) {
        for j in 0..<count { p[j * step] = convert(values[j]) }
    }
}

extension CPUBackend {
    /// Converts `source` into `destination` of another element type, tile by tile through `float32`
    /// (or `int64` when both are integer types, so that no integer loses precision).
    func convert(_ source: StridedView, to destination: StridedView) {
        let src = source.buffer.handle.hostPointer, dst = destination.buffer.handle.hostPointer
        let (from, to) = (source.dtype, destination.dtype)
        let integral = !from.isFloatingPoint && !to.isFloatingPoint
        let rows = StridedRows.layout(destination.shape, [source, destination])
        let grain = Self.elementwiseGrain
        let body = { (at: SIMD4<Int>, step: SIMD4<Int>, n: Int) in
            var done = 0
            while done < n {
                let m = Swift.min(ElementAccess.tile, n - done)
                let (i, o) = (at[0] + done * step[0], at[1] + done * step[1])
                if integral {
                    withUnsafeTemporaryAllocation(of: Int64.self, capacity: m) { values in
                        let v = values.baseAddress!
                        ElementAccess.loadIntegers(from, src, at: i, step: step[0], count: m, into: v)
                        ElementAccess.storeIntegers(v, count: m, as: to, dst, at: o, step: step[1])
                    }
                } else if from == .float32 && step[0] == 1 {
                    // float32 rows are read in place, and written in place below: no tile copy.
                    let values = src.assumingMemoryBound(to: Float.self) + i
                    ElementAccess.storeFloats(values, count: m, as: to, dst, at: o, step: step[1])
                } else if to == .float32 && step[1] == 1 {
                    ElementAccess.loadFloats(from, src, at: i, step: step[0], count: m, into: dst.assumingMemoryBound(to: Float.self) + o)
                } else {
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: m) { values in
                        let v = values.baseAddress!
                        ElementAccess.loadFloats(from, src, at: i, step: step[0], count: m, into: v)
                        ElementAccess.storeFloats(v, count: m, as: to, dst, at: o, step: step[1])
                    }
                }
                done += m
            }
        }
        if source.isContiguous && destination.isContiguous {
            Parallel.forEach(count: destination.count, grain: grain) { range in
                body(SIMD4(source.offset + range.lowerBound, destination.offset + range.lowerBound, 0, 0),
                     SIMD4(1, 1, 0, 0), range.count)
            }
            return
        }
        StridedRows.forEach(shape: rows.shape, strides: rows.strides, base: rows.base, grain: grain, body)
    }
}
