import CVectorMath
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
            Self.philox(count, seed: seed, counter: counter, out, bernoulli: false, low, high)
        case let .bernoulli(probability, value):
            Self.philox(count, seed: seed, counter: counter, out, bernoulli: true, probability, value)
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

    /// CVectorMath's Philox floats for `out[0..<count]` (four per block, blocks `counter, counter + 1, …`),
    /// in parallel over blocks.
    private static func philox(
        _ count: Int, seed: UInt64, counter: UInt64, _ out: UnsafeMutablePointer<Float>, bernoulli: Bool,
        _ a: Float, _ b: Float
    ) {
        Parallel.forEach(count: (count + 3) / 4, grain: transcendentalGrain / 4) { blocks in
            let first = 4 * blocks.lowerBound, end = min(count, 4 * blocks.upperBound)
            cortado_vm_philox(out + first, end - first, seed, counter &+ UInt64(blocks.lowerBound), bernoulli ? 1 : 0, a, b)
        }
    }
}
