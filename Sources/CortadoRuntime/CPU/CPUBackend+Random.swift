import Foundation

extension CPUBackend {
    package func random(
        _ distribution: Distribution, seed: UInt64, counter: UInt64, into buffer: DeviceBuffer,
        offset: Int, count: Int
    ) throws {
        let out = buffer.floats + offset
        let unit: Float = 0x1.0p-24
        switch distribution {
        case let .uniform(low, high):
            Self.fourPerBlock(count, seed: seed, counter: counter, out) { low + (high - low) * Float($0 >> 8) * unit }
        case let .bernoulli(probability, value):
            Self.fourPerBlock(count, seed: seed, counter: counter, out) { Float($0 >> 8) * unit < probability ? value : 0 }
        case let .normal(mean, std):
            Parallel.forEach(count: count, grain: Self.transcendentalGrain) { range in
                for i in range {
                    let r = Philox.block(counter: counter &+ UInt64(i), seed: seed)
                    let u1 = Float((r.x >> 8) + 1) * unit
                    let u2 = Float(r.y >> 8) * unit
                    let z = (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(6.283_185_307_179_586_5 * u2)
                    out[i] = mean + std * z
                }
            }
        }
    }

    /// Writes `transform(word)` for each of the four words of Philox blocks `counter, counter + 1, …`
    /// into `out[0..<count]`, in parallel over blocks.
    @inline(__always)
    private static func fourPerBlock(
        _ count: Int, seed: UInt64, counter: UInt64, _ out: UnsafeMutablePointer<Float>,
        _ transform: @escaping (UInt32) -> Float
    ) {
        Parallel.forEach(count: (count + 3) / 4, grain: transcendentalGrain / 4) { blocks in
            for block in blocks {
                let r = Philox.block(counter: counter &+ UInt64(block), seed: seed)
                let first = 4 * block
                if first + 4 <= count {
                    out[first] = transform(r.x)
                    out[first + 1] = transform(r.y)
                    out[first + 2] = transform(r.z)
                    out[first + 3] = transform(r.w)
                } else {
                    for lane in 0..<(count - first) { out[first + lane] = transform(r[lane]) }
                }
            }
        }
    }
}
