import Foundation

/// Chooses the fastest device for one workload by timing a few of its steps on every candidate,
/// as `--device auto` does.
///
/// The caller gives a step factory: for a device it builds a throwaway copy of the work (model,
/// optimizer, batch) there and returns a closure that runs one step and returns the samples it
/// processed. Each candidate runs untimed warm-up steps (kernel builds, first allocations, thread
/// pools and caches settling: at least ``warmupSteps``, and until ``warmupSeconds`` have passed),
/// then timed rounds of ``minimumSteps`` steps, each ended by waiting for the device, taken by the
/// devices in turn until ``secondsPerDevice`` per device have passed or the budget
/// (``budgetFraction`` of the run's estimated length) is spent. A device's speed is that of its fastest round, the estimate least
/// disturbed by other work on the machine. A device whose second (or later) warm-up step is already
/// less than half as fast as the best device so far is not timed further: that step's speed stands.
/// The decision is kept
/// in a ``DeviceChoiceCache`` keyed by the devices, their drivers, the workload's signature, the
/// batch and the precision, so the next run with the same workload reads it instead of measuring.
///
/// ```swift
/// let decision = try DeviceProbe().fastest(
///     workload: DeviceWorkload(signature: "cnn [1, 28, 28] → 10", batch: 64, precision: "fp32", runSamples: 180_000)
/// ) { device in
///     let trainer = …  // a copy of the model on `device`
///     return { try trainer.step(batch); return batch.count }
/// }
/// ```
public struct DeviceProbe: Sendable {
    /// The devices measured, in order (the first wins ties).
    public var candidates: [Device]
    /// Where decisions are kept; `nil` measures every time and keeps nothing.
    public var cache: DeviceChoiceCache?
    /// Measure even when the cache holds a decision (`--device auto:fresh`), and replace it.
    public var fresh: Bool
    /// Untimed steps before timing each device, at least.
    public var warmupSteps = 2
    /// Seconds of untimed steps before timing each device (at most ``maximumWarmupSteps`` steps).
    public var warmupSeconds = 0.05
    /// The most untimed steps per device.
    public var maximumWarmupSteps = 16
    /// Steps in each timed round (each device runs at least one round).
    public var minimumSteps = 3
    /// Timed seconds each device runs at most (fewer when the budget is smaller).
    public var secondsPerDevice = 0.25
    /// The share of the run's estimated length the timed rounds may take, with the warm-up: 3 %,
    /// leaving room under 5 % for what the budget cannot bound (an OpenCL device's first use).
    public var budgetFraction = 0.03

    /// A probe over `candidates` (by default `cpu` and every OpenCL device of this machine).
    public init(candidates: [Device] = DeviceProbe.allDevices, cache: DeviceChoiceCache? = DeviceChoiceCache(), fresh: Bool = false) {
        self.candidates = candidates
        self.cache = cache
        self.fresh = fresh
    }

    /// `cpu` and every OpenCL device (PoCL included), the devices `auto` measures.
    public static var allDevices: [Device] { Device.all.map(\.device) }

    /// How much faster a later device must be to be chosen over an earlier one: 5 %, within the
    /// noise of a short measurement, so near-ties keep the first candidate (the CPU: no transfers).
    public static let margin = 1.05

    /// Picks the fastest device from measured speeds: the highest rate among the complete
    /// measurements, a later device only when it is more than ``margin`` times faster than the
    /// best before it; `nil` when no device was measured completely.
    public static func choose(_ speeds: [DeviceSpeed]) -> String? {
        var best: DeviceSpeed?
        for speed in speeds where speed.complete && speed.samplesPerSecond > 0 {
            if best == nil || speed.samplesPerSecond > best!.samplesPerSecond * margin { best = speed }
        }
        return best?.device
    }

    /// The fastest candidate for `workload`: from the cache when it holds a decision for this
    /// workload on these devices (unless ``fresh``), else measured with `makeStep` and stored.
    ///
    /// A device whose step throws (an operation it lacks, memory it has not) is reported as failed
    /// and not chosen; an unreadable cache file is measured again, with a ``DeviceDecision/note``.
    /// - Throws: ``TrainingError/invalidOption(_:)`` when no candidate could run a step.
    public func fastest(workload: DeviceWorkload, makeStep: (Device) throws -> () throws -> Int) throws -> DeviceDecision {
        let clock = ProbeClock()
        let key = DeviceChoiceKey(workload: workload, devices: candidates)
        var note: String?
        if let cache, !fresh {
            switch cache.load(key) {
            case let .success(entry)?:
                if let chosen = candidates.first(where: { $0.id == entry.chosen }) {
                    return DeviceDecision(speeds: entry.speeds, device: chosen, fromCache: true, seconds: clock.seconds, cacheFile: cache.file(for: key), note: nil)
                }
            case let .failure(problem)?: note = "\(problem)"
            case nil: break
            }
        }
        let speeds = measure(workload: workload, makeStep: makeStep)
        guard let id = Self.choose(speeds), let chosen = candidates.first(where: { $0.id == id }) else {
            let reasons = speeds.map { "\($0.device): \($0.failure ?? "not measured")" }.joined(separator: "; ")
            throw TrainingError.invalidOption("--device auto: no device could run a step (\(reasons))")
        }
        var file: URL?
        // Only complete measurements are kept: a device cut short (its first kernel builds, say)
        // is measured again next time.
        if let cache, speeds.allSatisfy({ $0.complete || $0.failure != nil }) {
            do {
                try cache.store(DeviceChoiceCache.Entry(key: key, speeds: speeds, chosen: id), for: key)
                file = cache.file(for: key)
            } catch {
                note = [note, "the device choice was not cached: \(error)"].compactMap { $0 }.joined(separator: "; ")
            }
        }
        return DeviceDecision(speeds: speeds, device: chosen, fromCache: false, seconds: clock.seconds, cacheFile: file, note: note)
    }

    /// Times `makeStep`'s steps on every candidate (see the type's summary for the schedule).
    /// The timed rounds go round the devices in turn, so that other work on the machine slows
    /// each device alike rather than whichever was being timed.
    public func measure(workload: DeviceWorkload, makeStep: (Device) throws -> () throws -> Int) -> [DeviceSpeed] {
        let total = ProbeClock()
        var speeds = candidates.map { DeviceSpeed(device: $0.id, samplesPerSecond: 0, steps: 0, complete: false) }
        var timed: [(index: Int, step: () throws -> Int)] = []
        var bestRate = 0.0
        defer { for device in candidates { try? device.emptyCache() } }
        for (index, device) in candidates.enumerated() {
            do {
                let step = try makeStep(device)
                let warmup = ProbeClock()
                var warmupSteps = 0, lastRate = 0.0, clearlySlower = false
                repeat {
                    let clock = ProbeClock()
                    let samples = try step()
                    try device.synchronize()
                    lastRate = Double(samples) / max(clock.seconds, 1e-9)
                    warmupSteps += 1
                    // Past its first step (kernel builds), a device at under half the best speed loses anyway.
                    clearlySlower = warmupSteps > 1 && lastRate < bestRate / 2
                } while !clearlySlower
                    && (warmupSteps < self.warmupSteps || (warmup.seconds < warmupSeconds && warmupSteps < maximumWarmupSteps))
                speeds[index] = DeviceSpeed(device: device.id, samplesPerSecond: lastRate, steps: 1, complete: clearlySlower)
                if !clearlySlower {
                    bestRate = max(bestRate, lastRate)
                    timed.append((index, step))
                }
            } catch {
                speeds[index].failure = "\(error)"
            }
        }
        // The budget: a share of the run's length at the best speed seen, less what warming up
        // spent; every device still timed runs at least one round.
        let budget = budgetFraction * Double(workload.runSamples) / max(bestRate, 1e-9)
        let limit = min(secondsPerDevice * Double(timed.count), max(budget - total.seconds, 0))
        let clock = ProbeClock()
        var rates = Array(repeating: 0.0, count: candidates.count), rounds = Array(repeating: 0, count: candidates.count)
        repeat {
            for (index, step) in timed where speeds[index].failure == nil {
                do {
                    let round = ProbeClock()
                    var samples = 0
                    for _ in 0..<max(minimumSteps, 1) { samples += try step() }
                    try candidates[index].synchronize()
                    rates[index] = max(rates[index], Double(samples) / max(round.seconds, 1e-9))
                    rounds[index] += 1
                } catch {
                    speeds[index].failure = "\(error)"
                }
            }
        } while clock.seconds < limit && timed.contains { speeds[$0.index].failure == nil }
        for (index, _) in timed where speeds[index].failure == nil {
            speeds[index] = DeviceSpeed(
                device: candidates[index].id, samplesPerSecond: rates[index], steps: rounds[index] * max(minimumSteps, 1), complete: true)
        }
        for index in speeds.indices where speeds[index].failure != nil {
            speeds[index].samplesPerSecond = 0
            speeds[index].complete = false
        }
        return speeds
    }
}

/// What ``DeviceProbe`` measures and caches by: a description of the work and the run's size.
public struct DeviceWorkload: Sendable, Equatable {
    /// What the step computes: the model kind and its shapes (`cnn [1, 28, 28] → 10`), and anything
    /// else that changes its speed. Two workloads with the same signature share cached decisions.
    public var signature: String
    /// Samples per step.
    public var batch: Int
    /// The compute precision (`fp32`, `bf16`, `fp16`).
    public var precision: String
    /// Samples the whole run will process (for the probe's budget).
    public var runSamples: Int

    /// Creates a workload description.
    public init(signature: String, batch: Int, precision: String, runSamples: Int) {
        self.signature = signature
        self.batch = batch
        self.precision = precision
        self.runSamples = runSamples
    }
}

/// One device's measured speed.
public struct DeviceSpeed: Codable, Sendable, Equatable {
    /// The device's id (`cpu`, `opencl:0`).
    public var device: String
    /// Samples per second over the timed steps (0 when it failed).
    public var samplesPerSecond: Double
    /// The timed steps.
    public var steps: Int
    /// Whether the device ran all the steps the probe asked for.
    public var complete: Bool
    /// Why the device could not run a step, if it could not.
    public var failure: String?

    /// Creates a measurement.
    public init(device: String, samplesPerSecond: Double, steps: Int, complete: Bool, failure: String? = nil) {
        self.device = device
        self.samplesPerSecond = samplesPerSecond
        self.steps = steps
        self.complete = complete
        self.failure = failure
    }
}

/// The outcome of ``DeviceProbe/fastest(workload:makeStep:)``.
public struct DeviceDecision: Sendable, Equatable {
    /// Every candidate's speed, in the probe's order.
    public var speeds: [DeviceSpeed]
    /// The device chosen.
    public var device: Device
    /// Whether the decision was read from the cache rather than measured.
    public var fromCache: Bool
    /// Seconds the decision took (measuring, or reading the cache).
    public var seconds: Double
    /// The cache file holding the decision (`nil` when it was not stored).
    public var cacheFile: URL?
    /// A problem met on the way (an unreadable cache file, a decision that could not be stored).
    public var note: String?

    /// The line `--device auto` prints: `auto: cpu 24.1 k samples/s, opencl:0 11.0 k → cpu (measured in 0.21 s)`.
    public var summary: String {
        let figures = speeds.enumerated().map { index, speed in
            if let failure = speed.failure { return "\(speed.device) failed (\(failure.prefix(80)))" }
            return "\(speed.device) \(Self.rate(speed.samplesPerSecond, unit: index == 0))"
        }
        let how = fromCache
            ? "from the cache in \(Self.milliseconds(seconds)); --device auto:fresh measures again"
            : "measured in \(String(format: "%.2f", seconds)) s"
        return "auto: \(figures.joined(separator: ", ")) → \(device.id) (\(how))"
    }

    /// `24.1 k samples/s` (or `24.1 k` without the unit).
    static func rate(_ value: Double, unit: Bool) -> String {
        let number = value >= 1000 ? String(format: "%.1f k", value / 1000) : String(format: "%.0f", value)
        return unit ? number + " samples/s" : number
    }

    static func milliseconds(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
}

/// Wall-clock seconds since it was made.
struct ProbeClock {
    private let start = DispatchTime.now().uptimeNanoseconds
    var seconds: Double { Double(DispatchTime.now().uptimeNanoseconds &- start) / 1e9 }
}
