import CVectorMath
import Foundation

extension CPUBackend {
    package func im2col(_ x: DeviceBuffer, _ g: ConvGeometry, into cols: DeviceBuffer) throws {
        // A copy of elements: bits of the element's width, whatever the type (zero is all zero bits).
        if x.dtype.isHalf {
            im2col(x.handle.hostPointer.assumingMemoryBound(to: UInt16.self),
                   cols.handle.hostPointer.assumingMemoryBound(to: UInt16.self), g)
        } else {
            im2col(x.floats, cols.floats, g)
        }
    }

    private func im2col<Element: Numeric>(_ xs: UnsafeMutablePointer<Element>, _ cs: UnsafeMutablePointer<Element>, _ g: ConvGeometry) {
        let plane = g.outputPlane, patches = g.patchSize
        // One task per (sample, patch row): a contiguous run of `plane` columns.
        Parallel.forEach(count: g.batch * patches, grain: max(1, Self.elementwiseGrain / max(plane, 1))) { rows in
            for row in rows {
                let n = row / patches, r = row % patches
                let kx = r % g.kernelWidth, ky = (r / g.kernelWidth) % g.kernelHeight
                let c = r / (g.kernelWidth * g.kernelHeight)
                let source = xs + (n * g.channels + c) * g.height * g.width
                let target = cs + row * plane
                for oy in 0..<g.outHeight {
                    let iy = oy * g.strideY - g.padY + ky * g.dilationY
                    let out = target + oy * g.outWidth
                    guard iy >= 0 && iy < g.height else {
                        out.initialize(repeating: 0, count: g.outWidth)
                        continue
                    }
                    let line = source + iy * g.width
                    let shift = kx * g.dilationX - g.padX
                    if g.strideX == 1 && shift >= 0 && shift + g.outWidth <= g.width {
                        out.update(from: line + shift, count: g.outWidth)
                    } else {
                        for ox in 0..<g.outWidth {
                            let ix = ox * g.strideX + shift
                            out[ox] = ix >= 0 && ix < g.width ? line[ix] : 0
                        }
                    }
                }
            }
        }
    }

    package func col2im(_ cols: DeviceBuffer, _ g: ConvGeometry, into x: DeviceBuffer) throws {
        if cols.dtype.isHalf || x.dtype.isHalf {
            return try widening([cols], into: [x]) { b in try col2im(b[0]!, g, into: b[1]!) }
        }
        let xs = x.floats, cs = cols.floats
        let plane = g.outputPlane, patches = g.patchSize, planeIn = g.height * g.width
        // Each (n, c) plane of x is written by one task only: no races, deterministic order.
        Parallel.forEach(count: g.batch * g.channels, grain: max(1, Self.elementwiseGrain / max(planeIn * 4, 1))) { planes in
            for p in planes {
                let n = p / g.channels, c = p % g.channels
                let target = xs + p * planeIn
                target.initialize(repeating: 0, count: planeIn)
                for ky in 0..<g.kernelHeight {
                    for kx in 0..<g.kernelWidth {
                        let r = (c * g.kernelHeight + ky) * g.kernelWidth + kx
                        let source = cs + (n * patches + r) * plane
                        for oy in 0..<g.outHeight {
                            let iy = oy * g.strideY - g.padY + ky * g.dilationY
                            guard iy >= 0 && iy < g.height else { continue }
                            let line = target + iy * g.width, run = source + oy * g.outWidth
                            for ox in 0..<g.outWidth {
                                let ix = ox * g.strideX - g.padX + kx * g.dilationX
                                if ix >= 0 && ix < g.width { line[ix] += run[ox] }
                            }
                        }
                    }
                }
            }
        }
    }

    package func maxPool(_ x: DeviceBuffer, _ g: PoolGeometry, into y: DeviceBuffer, indices: DeviceBuffer) throws {
        if x.dtype.isHalf && y.dtype == x.dtype && g.isTwoByTwo {
            // Compared as floats in registers, stored as 16 bits: no float32 copy of the activation.
            let (xs, ys) = (x.halves, y.halves)
            let (planeIn, planeOut) = (g.height * g.width, g.outHeight * g.outWidth)
            let bfloat16: Int32 = x.dtype == .bfloat16 ? 1 : 0
            Parallel.forEach(count: g.planes, grain: max(1, Self.elementwiseGrain / max(planeIn, 1))) { planes in
                let first = planes.lowerBound
                cortado_vm_max_pool_2x2_16(
                    xs + first * planeIn, ys + first * planeOut, indices.ints + first * planeOut, bfloat16, planes.count,
                    g.height, g.width, g.outHeight, g.outWidth)
            }
            return
        }
        if x.dtype.isHalf {
            return try widening([x], into: [y, indices]) { b in try maxPool(b[0]!, g, into: b[1]!, indices: b[2]!) }
        }
        let xs = x.floats, ys = y.floats, idx = indices.ints
        let planeIn = g.height * g.width, planeOut = g.outHeight * g.outWidth
        if g.isTwoByTwo {
            maxPool2x2(xs, ys, idx, g)
            return
        }
        Parallel.forEach(count: g.planes, grain: max(1, Self.elementwiseGrain / max(planeIn, 1))) { planes in
            for p in planes {
                let plane = xs + p * planeIn
                for oy in 0..<g.outHeight {
                    for ox in 0..<g.outWidth {
                        var best = -Float.infinity, bestIndex = -1
                        search: for ky in 0..<g.kernelHeight {
                            let iy = oy * g.strideY - g.padY + ky
                            guard iy >= 0 && iy < g.height else { continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.strideX - g.padX + kx
                                guard ix >= 0 && ix < g.width else { continue }
                                let v = plane[iy * g.width + ix]
                                if bestIndex < 0 || v > best || v.isNaN {
                                    best = v
                                    bestIndex = iy * g.width + ix
                                    if v.isNaN { break search }
                                }
                            }
                        }
                        let o = p * planeOut + oy * g.outWidth + ox
                        ys[o] = best
                        idx[o] = Int32(bestIndex)
                    }
                }
            }
        }
    }

    /// The common 2×2, stride-2, unpadded window: CVectorMath's branch-free loop over whole planes.
    private func maxPool2x2(
        _ xs: UnsafeMutablePointer<Float>, _ ys: UnsafeMutablePointer<Float>, _ idx: UnsafeMutablePointer<Int32>, _ g: PoolGeometry
    ) {
        let (planeIn, planeOut) = (g.height * g.width, g.outHeight * g.outWidth)
        Parallel.forEach(count: g.planes, grain: max(1, Self.elementwiseGrain / max(planeIn, 1))) { planes in
            let first = planes.lowerBound
            cortado_vm_max_pool_2x2(
                xs + first * planeIn, ys + first * planeOut, idx + first * planeOut, planes.count,
                g.height, g.width, g.outHeight, g.outWidth)
        }
    }

    package func maxPoolBackward(
        _ dy: DeviceBuffer, indices: DeviceBuffer, _ g: PoolGeometry, into dx: DeviceBuffer
    ) throws {
        if dy.dtype.isHalf && dx.dtype == dy.dtype && g.isTwoByTwo {
            let (gs, ds) = (dy.halves, dx.halves)
            let (planeIn, planeOut) = (g.height * g.width, g.outHeight * g.outWidth)
            let bfloat16: Int32 = dy.dtype == .bfloat16 ? 1 : 0
            Parallel.forEach(count: g.planes, grain: max(1, Self.elementwiseGrain / max(planeIn, 1))) { planes in
                let first = planes.lowerBound
                cortado_vm_max_pool_2x2_backward_16(
                    gs + first * planeOut, indices.ints + first * planeOut, ds + first * planeIn, bfloat16, planes.count,
                    g.height, g.width, g.outHeight, g.outWidth)
            }
            return
        }
        if dy.dtype.isHalf {
            return try widening([dy, indices], into: [dx]) { b in try maxPoolBackward(b[0]!, indices: b[1]!, g, into: b[2]!) }
        }
        let gs = dy.floats, idx = indices.ints, ds = dx.floats
        let planeIn = g.height * g.width, planeOut = g.outHeight * g.outWidth
        if g.isTwoByTwo {
            Parallel.forEach(count: g.planes, grain: max(1, Self.elementwiseGrain / max(planeIn, 1))) { planes in
                let first = planes.lowerBound
                cortado_vm_max_pool_2x2_backward(
                    gs + first * planeOut, idx + first * planeOut, ds + first * planeIn, planes.count,
                    g.height, g.width, g.outHeight, g.outWidth)
            }
            return
        }
        Parallel.forEach(count: g.planes, grain: max(1, Self.elementwiseGrain / max(planeIn, 1))) { planes in
            for p in planes {
                let target = ds + p * planeIn
                target.initialize(repeating: 0, count: planeIn)
                for o in 0..<planeOut {
                    let at = Int(idx[p * planeOut + o])
                    if at >= 0 { target[at] += gs[p * planeOut + o] }
                }
            }
        }
    }

    package func avgPool(_ x: DeviceBuffer, _ g: PoolGeometry, into y: DeviceBuffer) throws {
        if x.dtype.isHalf {
            return try widening([x], into: [y]) { b in try avgPool(b[0]!, g, into: b[1]!) }
        }
        let xs = x.floats, ys = y.floats
        let planeIn = g.height * g.width, planeOut = g.outHeight * g.outWidth
        let divisor = Float(g.kernelHeight * g.kernelWidth)
        Parallel.forEach(count: g.planes, grain: max(1, Self.elementwiseGrain / max(planeIn, 1))) { planes in
            for p in planes {
                let plane = xs + p * planeIn
                for oy in 0..<g.outHeight {
                    for ox in 0..<g.outWidth {
                        var total: Float = 0
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.strideY - g.padY + ky
                            guard iy >= 0 && iy < g.height else { continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.strideX - g.padX + kx
                                if ix >= 0 && ix < g.width { total += plane[iy * g.width + ix] }
                            }
                        }
                        ys[p * planeOut + oy * g.outWidth + ox] = total / divisor
                    }
                }
            }
        }
    }

    package func avgPoolBackward(_ dy: DeviceBuffer, _ g: PoolGeometry, into dx: DeviceBuffer) throws {
        if dy.dtype.isHalf {
            return try widening([dy], into: [dx]) { b in try avgPoolBackward(b[0]!, g, into: b[1]!) }
        }
        let gs = dy.floats, ds = dx.floats
        let planeIn = g.height * g.width, planeOut = g.outHeight * g.outWidth
        let divisor = Float(g.kernelHeight * g.kernelWidth)
        Parallel.forEach(count: g.planes, grain: max(1, Self.elementwiseGrain / max(planeIn, 1))) { planes in
            for p in planes {
                let target = ds + p * planeIn
                target.initialize(repeating: 0, count: planeIn)
                for oy in 0..<g.outHeight {
                    for ox in 0..<g.outWidth {
                        let share = gs[p * planeOut + oy * g.outWidth + ox] / divisor
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.strideY - g.padY + ky
                            guard iy >= 0 && iy < g.height else { continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.strideX - g.padX + kx
                                if ix >= 0 && ix < g.width { target[iy * g.width + ix] += share }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension PoolGeometry {
    /// The common 2×2, stride-2, unpadded window, which CVectorMath's branch-free loops handle.
    fileprivate var isTwoByTwo: Bool {
        kernelHeight == 2 && kernelWidth == 2 && strideY == 2 && strideX == 2 && padY == 0 && padX == 0
    }
}
