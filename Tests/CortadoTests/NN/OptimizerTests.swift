import Cortado
import CortadoNN
import Foundation
import Testing

/// An optimizer, built over given parameters, with the textbook update written out independently
/// of the kernels: `reference(p, g, state, t)` updates one element in double precision.
struct OptimizerCase: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable ([(name: String, parameter: Parameter)]) throws -> any Optimizer
    let reference: @Sendable (_ p: inout Double, _ g: Double, _ state: inout [Double], _ t: Int) -> Void
    var testDescription: String { name }
}

let optimizerCases: [OptimizerCase] = [
    OptimizerCase(name: "SGD", make: { try SGD($0, learningRate: 0.1) }) { p, g, _, _ in p -= 0.1 * g },
    OptimizerCase(name: "SGD momentum + decay", make: { try SGD($0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01) }) { p, g, s, _ in
        let grad = g + 0.01 * p
        s[0] = 0.9 * s[0] + grad
        p -= 0.1 * s[0]
    },
    OptimizerCase(name: "SGD Nesterov", make: { try SGD($0, learningRate: 0.05, momentum: 0.8, nesterov: true) }) { p, g, s, _ in
        s[0] = 0.8 * s[0] + g
        p -= 0.05 * (g + 0.8 * s[0])
    },
    OptimizerCase(name: "Adam", make: { try Adam($0, learningRate: 0.01, weightDecay: 0.1) }) { p, g, s, t in
        let grad = g + 0.1 * p
        s[0] = 0.9 * s[0] + 0.1 * grad
        s[1] = 0.999 * s[1] + 0.001 * grad * grad
        let mHat = s[0] / (1 - pow(0.9, Double(t))), vHat = s[1] / (1 - pow(0.999, Double(t)))
        p -= 0.01 * mHat / (vHat.squareRoot() + 1e-8)
    },
    OptimizerCase(name: "AdamW", make: { try AdamW($0, learningRate: 0.01, weightDecay: 0.1) }) { p, g, s, t in
        p *= 1 - 0.01 * 0.1
        s[0] = 0.9 * s[0] + 0.1 * g
        s[1] = 0.999 * s[1] + 0.001 * g * g
        let mHat = s[0] / (1 - pow(0.9, Double(t))), vHat = s[1] / (1 - pow(0.999, Double(t)))
        p -= 0.01 * mHat / (vHat.squareRoot() + 1e-8)
    },
    OptimizerCase(name: "RMSProp momentum", make: { try RMSProp($0, learningRate: 0.01, momentum: 0.5) }) { p, g, s, _ in
        s[0] = 0.99 * s[0] + 0.01 * g * g
        s[1] = 0.5 * s[1] + g / (s[0].squareRoot() + 1e-8)
        p -= 0.01 * s[1]
    },
    OptimizerCase(name: "AdaGrad", make: { try AdaGrad($0, learningRate: 0.1) }) { p, g, s, _ in
        s[0] += g * g
        p -= 0.1 * g / (s[0].squareRoot() + 1e-10)
    },
]

@Suite("Optimizers and schedules")
struct OptimizerTests {
    /// 19 elements: a full 16-lane vector and a tail, so vectorised and scalar paths both run.
    static let start: [Float] = Fixtures.values(19, seed: 61, low: -2, high: 2)
    /// Gradients of the two steps (the loss is Σ p·c, so ∂/∂p = c).
    static let gradients: [[Float]] = [Fixtures.values(19, seed: 62), Fixtures.values(19, seed: 63, low: -0.5, high: 1.5)]

    @Test("two steps match the textbook update", arguments: optimizerCases, TestDevices.all)
    func twoSteps(_ optimizer: OptimizerCase, device: Device) throws {
        let parameter = try Parameter(Tensor(Self.start, device: device))
        let instance = try optimizer.make([("p", parameter)])
        var expected = Self.start.map(Double.init)
        var state = Array(repeating: [0.0, 0.0], count: expected.count)
        for (t, gradient) in Self.gradients.enumerated() {
            instance.zeroGrad()
            try (parameter.value * Tensor(gradient, device: device)).sum().backward()
            try instance.step()
            for i in expected.indices { optimizer.reference(&expected[i], Double(gradient[i]), &state[i], t + 1) }
            try assertClose(parameter.value, expected.map(Float.init), rtol: 1e-5, atol: 1e-6, "\(optimizer.name) step \(t + 1)")
        }
        #expect(instance.stepCount == 2)
    }

    @Test("saved optimizer state resumes exactly where it stopped", arguments: optimizerCases)
    func stateRoundTrip(_ optimizer: OptimizerCase) throws {
        func run(_ steps: Int, restoringAfter split: Int?) throws -> [Float] {
            var parameter = try Parameter(Tensor(Self.start))
            var instance = try optimizer.make([("p", parameter)])
            for step in 0..<steps {
                if step == split {
                    // "Restart": new parameter and optimizer from the saved values and state.
                    let saved = Dictionary(uniqueKeysWithValues: instance.stateTensors())
                    let count = instance.stepCount
                    parameter = try Parameter(parameter.value.copied())
                    instance = try optimizer.make([("p", parameter)])
                    try instance.loadState(saved, stepCount: count)
                }
                instance.zeroGrad()
                try (parameter.value * Tensor(Self.gradients[step % 2])).sum().backward()
                try instance.step()
            }
            return try parameter.value.toArray()
        }
        #expect(try run(4, restoringAfter: 2) == run(4, restoringAfter: nil))
    }

    @Test("bad hyperparameters are errors")
    func badHyperparameters() throws {
        let parameters = [("p", try Parameter(Tensor.zeros([2])))]
        #expect(throws: CortadoError.self) { try SGD(parameters, learningRate: 0) }
        #expect(throws: CortadoError.self) { try SGD(parameters, learningRate: -1) }
        #expect(throws: CortadoError.self) { try SGD(parameters, learningRate: 0.1, nesterov: true) }
        #expect(throws: CortadoError.self) { try Adam(parameters, beta1: 1) }
        #expect(throws: CortadoError.self) { try RMSProp(parameters, alpha: -0.1) }
    }

    @Test("schedules: warm-up, step, cosine, linear")
    func schedules() {
        let warm = LearningRateSchedule(base: 1, shape: .constant, warmupSteps: 4, totalSteps: 10)
        #expect([0, 1, 3, 4, 9].map(warm.rate) == [0.25, 0.5, 1, 1, 1])
        let step = LearningRateSchedule(base: 1, shape: .step(every: 3, factor: 0.5))
        #expect([0, 2, 3, 6, 7].map(step.rate) == [1, 1, 0.5, 0.25, 0.25])
        let cosine = LearningRateSchedule(base: 2, shape: .cosine(minimumFactor: 0), totalSteps: 100)
        #expect(abs(cosine.rate(at: 0) - 2) < 1e-6 && abs(cosine.rate(at: 50) - 1) < 1e-5 && abs(cosine.rate(at: 100)) < 1e-6)
        let linear = LearningRateSchedule(base: 1, shape: .linear, warmupSteps: 10, totalSteps: 110)
        #expect(abs(linear.rate(at: 9) - 1) < 1e-6 && abs(linear.rate(at: 60) - 0.5) < 1e-6 && linear.rate(at: 110) == 0)
    }
}
