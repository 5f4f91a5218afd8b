import Cortado
import Testing

@Suite("Random numbers")
struct RandomTests {
    @Test("every device draws the same uniform numbers for the same seed; normals agree closely")
    func sameNumbersEverywhere() throws {
        var uniforms: [[Float]] = []
        var normals: [[Float]] = []
        for device in TestDevices.all {
            let generator = RandomGenerator(seed: 1234)
            uniforms.append(try Tensor.uniform([1001], low: -2, high: 3, device: device, generator: generator).toArray())
            normals.append(try Tensor.normal([1001], mean: 1, std: 2, device: device, generator: generator).toArray())
        }
        for i in 1..<uniforms.count {
            #expect(uniforms[i] == uniforms[0], "uniform numbers differ on \(TestDevices.all[i])")
            assertClose(normals[i], normals[0], rtol: 1e-5, atol: 1e-5, "normal on \(TestDevices.all[i])")
        }
    }

    @Test("seeding restarts the stream; the stream advances between calls", arguments: TestDevices.all)
    func seeding(device: Device) throws {
        let generator = RandomGenerator(seed: 7)
        let first = try Tensor.uniform([16], device: device, generator: generator).toArray()
        let second = try Tensor.uniform([16], device: device, generator: generator).toArray()
        generator.seed(7)
        #expect(try Tensor.uniform([16], device: device, generator: generator).toArray() == first)
        #expect(first != second)
        generator.seed(8)
        #expect(try Tensor.uniform([16], device: device, generator: generator).toArray() != first)
    }

    @Test("moments match the distributions", arguments: TestDevices.all)
    func moments(device: Device) throws {
        let generator = RandomGenerator(seed: 99)
        let n = 200_000
        let u = try Tensor.uniform([n], low: -1, high: 3, device: device, generator: generator).toArray()
        let z = try Tensor.normal([n], mean: 0.5, std: 2, device: device, generator: generator).toArray()
        func moments(_ x: [Float]) -> (mean: Double, variance: Double) {
            let mean = x.reduce(0.0) { $0 + Double($1) } / Double(x.count)
            return (mean, x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(x.count))
        }
        let (um, uv) = moments(u), (zm, zv) = moments(z)
        #expect(abs(um - 1) < 0.02 && abs(uv - 16.0 / 12) < 0.02, "uniform mean \(um) variance \(uv)")
        #expect(abs(zm - 0.5) < 0.03 && abs(zv - 4) < 0.06, "normal mean \(zm) variance \(zv)")
        #expect(u.allSatisfy { $0 >= -1 && $0 < 3 })
    }

    @Test("Bernoulli masks: the same on every device, only 0 and the value, at the right rate")
    func bernoulli() throws {
        var masks: [[Float]] = []
        for device in TestDevices.all {
            let generator = RandomGenerator(seed: 21)
            masks.append(try Tensor.bernoulli([100_003], probability: 0.3, value: 2.5, device: device, generator: generator).toArray())
        }
        for i in 1..<masks.count { #expect(masks[i] == masks[0], "Bernoulli mask differs on \(TestDevices.all[i])") }
        let mask = masks[0]
        #expect(mask.allSatisfy { $0 == 0 || $0 == 2.5 })
        let rate = Double(mask.count { $0 != 0 }) / Double(mask.count)
        #expect(abs(rate - 0.3) < 0.005, "rate \(rate)")
        // The mask is the uniform stream thresholded: element i is kept exactly when uniform i < p.
        let uniform = try Tensor.uniform([100_003], device: .cpu, generator: RandomGenerator(seed: 21)).toArray()
        #expect(zip(mask, uniform).allSatisfy { ($0 != 0) == ($1 < 0.3) })
        #expect(throws: CortadoError.self) { try Tensor.bernoulli([2], probability: 1.5) }
    }

    @Test("a fill consumes whole Philox blocks: a tail of 1 to 3 elements still advances the stream by one")
    func streamAdvance() throws {
        // 5 uniform elements use blocks 0 and 1; the next draw starts at block 2, i.e. element 8 of a fresh stream.
        let generator = RandomGenerator(seed: 5)
        _ = try Tensor.uniform([5], device: .cpu, generator: generator)
        let next = try Tensor.uniform([4], device: .cpu, generator: generator).toArray()
        let fresh = try Tensor.uniform([12], device: .cpu, generator: RandomGenerator(seed: 5)).toArray()
        #expect(next == Array(fresh[8..<12]))
    }

    @Test("integers for shuffling cover their range")
    func integers() {
        let generator = RandomGenerator(seed: 3)
        let draws = (0..<1000).map { _ in generator.nextInt(below: 10) }
        #expect(Set(draws) == Set(0..<10))
    }
}
