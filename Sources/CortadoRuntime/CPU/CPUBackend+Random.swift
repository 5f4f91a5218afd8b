import Foundation

extension CPUBackend {
    package func random(
        _ distribution: Distribution, seed: UInt64, counter: UInt64, into buffer: DeviceBuffer,
        offset: Int, count: Int
    ) throws {
        let out = buffer.floats + offset
        let unit: Float = 0x1.0p-24
        Parallel.forEach(count: count, grain: Self.transcendentalGrain) { range in
            switch distribution {
            case let .uniform(low, high):
                for i in range {
                    let r = Philox.block(counter: counter &+ UInt64(i), seed: seed)
                    let u = Float(r.x >> 8) * unit
                    out[i] = low + (high - low) * u
                }
            case let .normal(mean, std):
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
}
