import Foundation
import Synchronization

/// Averages the gradients of a step over every rank, bucket by bucket, while the backward pass runs.
///
/// Each bucket (``GradientBuckets``) has one dense device tensor. As soon as the backward pass has
/// completed every gradient of the next bucket in order, the training thread copies them into it
/// (on the device, without waiting) and hands the bucket to the ``CommunicationThread``, which
/// reads it back once (into pinned host memory on OpenCL: ``HostStaging``), all-reduces it with a
/// blocking `MPI_Allreduce` and writes it back. On a host-memory device the bucket's memory is
/// reduced in place, without a read or a write. The gradients arrive already weighted by this
/// rank's share of the global batch (the backward pass starts from that share instead of 1), so the
/// sum is the global batch's gradient. The largest gradient of a bucket sits at its start and is
/// handed to the optimizer in place; the others are copied out.
///
/// A bucket whose largest gradient holds at least ``separateLargest`` values all-reduces it in a
/// call of its own, then the rest if any (on every rank, whatever its device, so the ranks' calls
/// match). When that gradient is a table of many rows, only the rows some rank touched are summed
/// (``RowSparseReduction``): an embedding's gradient, 47 MB in all-MiniLM-L6-v2, shrinks to the
/// rows of the batch's tokens. On a host-memory
/// device, when that gradient is float32, dense and held by nothing else (as a finished backward pass
/// leaves it), it is not copied into the bucket but reduced in its own memory: the copy cost 40 % of
/// the all-reduce for the cnn's 1.39 MB (DDP's `gradient_as_bucket_view` avoids it the same way).
///
/// The communication thread overlaps the all-reduces with the backward pass only when it has a
/// core to itself (``overlaps``): while it waits for a slower rank, MPI polls, and on a core that
/// the backward pass also needs that polling slows the pass down more than the overlap gains (cnn
/// at batch 128 on 2 ranks of one core each: 1.77× one rank with overlap, 1.93× without, medians of
/// 3 interleaved rounds). Without overlap the training thread launches every bucket after the pass
/// and runs the all-reduces itself, in bucket order.
///
/// The last bucket carries a control block after its gradients: the step's loss (copied on the
/// device, so it comes back with the bucket), the rank's sample count, its stop request, and which
/// parameters got a gradient. So one all-reduce per bucket gives the global loss, the global batch
/// size, a stop every rank agrees on, and the parameters that no rank reached (left without gradient,
/// as a one-process run would leave them).
package final class GradientReducer: @unchecked Sendable {
    /// Seconds the training thread waits for the all-reduce before it gives up on the other ranks.
    var timeout: Double
    /// Whether buckets are all-reduced on the communication thread while the backward pass runs.
    let overlaps: Bool
    /// For this step, no overlap: every gradient is read back before the first all-reduce, so the
    /// compute time that ``finishStep(stepStart:)`` reports leaves out waiting for slower ranks
    /// (`--balance auto` measures with it).
    var measuring = false
    private let communicator: any Communicator
    private let parameters: [Parameter]
    private let plan: GradientBuckets
    private let thread = CommunicationThread()
    /// One dense tensor per bucket (the last one with the control block).
    private let flats: [Tensor]
    /// Host memory per bucket: the bucket's own memory on a host device, else a staging copy.
    private let staging: [UnsafeMutableBufferPointer<Float>]
    private let stagingIsDevice: Bool
    /// The staging copies' memory (pinned where the device's driver moves pinned memory faster).
    private let stagingMemory: [HostStaging]
    /// Each parameter's averaged gradient (dense, so the optimizer reads it without a copy).
    private let averaged: [Tensor]
    private var leafIndex: [ObjectIdentifier: Int] = [:]
    private var leaves: [ObjectIdentifier] = []

    // The current step; touched only by the training thread (jobs get copies).
    private var ready: [Int]
    private var present: [Bool]
    private var nextBucket = 0
    /// This rank's share of the current global batch, by which its gradients must be scaled.
    private(set) var weight: Float = 0
    private var localCount = 0
    private var stopRequested = false
    private var loss: Tensor?
    /// When the communication thread finished reading the last bucket: this rank's compute was done.
    private let computeDone = Clock()

    /// A time shared between the threads.
    private final class Clock: Sendable {
        let nanoseconds = Atomic<UInt64>(0)
    }

    /// The control block: loss, samples, stop, then one presence flag per parameter.
    private var controlCount: Int { 3 + parameters.count }

    /// The fewest values for which a bucket's largest gradient is all-reduced in a call of its own
    /// (64 kB: below it the extra call's latency costs more than the copy it saves).
    static let separateLargest = 16_384
    /// For each bucket, its largest entry when it is reduced separately.
    private let separated: [GradientBuckets.Entry?]
    /// For each bucket, whether this step reduces its largest gradient in the gradient's own memory.
    private var inPlace: [Bool]
    /// For each bucket, the row-sparse reduction of its separately reduced largest gradient when that
    /// is a table of at least ``RowSparseReduction/minimumRows`` rows.
    let rowSparse: [RowSparseReduction?]

    /// Prepares buckets for `parameters` (all on `device`).
    package init(
        parameters: [Parameter], device: Device, communicator: any Communicator, plan: GradientBuckets, timeout: Double,
        overlaps: Bool
    ) throws {
        self.overlaps = overlaps
        self.parameters = parameters
        self.communicator = communicator
        self.plan = plan
        self.timeout = timeout
        let last = plan.buckets.count - 1
        flats = try plan.buckets.enumerated().map { index, bucket in
            try Tensor.zeros([bucket.count + (index == last ? 3 + parameters.count : 0)], device: device)
        }
        if case .host = flats.first?.buffer.handle {
            stagingIsDevice = true
            stagingMemory = []
            staging = flats.map { UnsafeMutableBufferPointer(start: $0.buffer.floats, count: $0.count) }
        } else {
            stagingIsDevice = false
            stagingMemory = try flats.map { flat in
                try flat.backend.makeHostStaging(bytes: flat.count * MemoryLayout<Float>.stride)
            }
            staging = zip(flats, stagingMemory).map { flat, memory in
                let floats = memory.floats(flat.count)
                floats.initialize(repeating: 0)
                return floats
            }
        }
        averaged = try parameters.map { try Tensor.zeros($0.value.shape, device: device) }
        separated = plan.buckets.map { bucket in
            guard let largest = bucket.entries.first(where: { $0.offset == 0 }), largest.count >= Self.separateLargest else { return nil }
            return largest
        }
        rowSparse = separated.map { largest in
            guard let largest, case let shape = parameters[largest.parameter].value.shape, shape.count == 2 else { return nil }
            return RowSparseReduction(rows: shape[0], width: shape[1])
        }
        inPlace = Array(repeating: false, count: plan.buckets.count)
        ready = Array(repeating: 0, count: plan.buckets.count)
        present = Array(repeating: false, count: parameters.count)
    }

    deinit {
        thread.stop()
    }

    /// Starts a step in which this rank computes `localCount` of the global batch's `globalCount`
    /// samples with mean loss `loss` (`nil` when it computes none), whose backward pass starts from
    /// ``weight`` (`localCount / globalCount`); `stop` is this rank's request to end after the step.
    package func beginStep(localCount: Int, globalCount: Int, loss: Tensor?, stop: Bool) throws {
        let identities = parameters.map { ObjectIdentifier($0.value) }
        if identities != leaves {
            leaves = identities
            leafIndex = Dictionary(uniqueKeysWithValues: identities.enumerated().map { ($1, $0) })
        }
        for index in ready.indices { ready[index] = 0 }
        for index in inPlace.indices { inPlace[index] = false }
        for index in present.indices { present[index] = false }
        nextBucket = 0
        self.localCount = localCount
        weight = Float(localCount) / Float(max(globalCount, 1))
        stopRequested = stop
        self.loss = loss
    }

    /// The backward pass's hook: `leaf`'s gradient is complete. Launches every bucket that is now
    /// complete, in bucket order.
    package func gradientReady(_ leaf: Tensor) throws {
        guard let index = leafIndex[ObjectIdentifier(leaf)], !present[index], leaf.grad != nil else { return }
        present[index] = true
        ready[plan.bucketOfParameter[index]] += 1
        while overlaps, !measuring, nextBucket < plan.buckets.count, ready[nextBucket] == plan.buckets[nextBucket].entries.count {
            let (prepare, reduce) = try launch(nextBucket)
            thread.submit { try prepare(); try reduce() }
            nextBucket += 1
        }
    }

    /// Whether a communication thread may overlap the backward pass on `device` with `threads` CPU
    /// threads: when the device's work does not run on the host's cores (a GPU), or when the
    /// process may run on more cores than its CPU threads use.
    package static func overlaps(device: Device, threads: Int) -> Bool {
        (try? device.info.type) == .gpu || CPUThreads.allowedCores > threads
    }

    /// Launches the buckets not yet launched (their missing gradients count as zeros), waits for
    /// every all-reduce, and gives each parameter its averaged gradient.
    /// - Returns: the global batch's mean loss and size, whether any rank asked to stop, and the
    ///   seconds from `stepStart` until this rank's gradients were all read back (without waiting
    ///   for other ranks unless the step overlapped).
    package func finishStep(stepStart: UInt64) throws -> (loss: Double, samples: Int, stop: Bool, computeSeconds: Double) {
        if overlaps && !measuring {
            while nextBucket < plan.buckets.count {
                let (prepare, reduce) = try launch(nextBucket)
                thread.submit { try prepare(); try reduce() }
                nextBucket += 1
            }
            // In a trace: the wait for the all-reduces still running after the backward pass.
            let idle = try profiled("all-reduce wait", category: "communicate") { try thread.waitUntilIdle(timeout: timeout) }
            guard idle else {
                throw DistributedError.communication(
                    "rank \(communicator.rank): the gradient all-reduce had no answer from the other ranks within \(Int(timeout)) s; a rank has stopped or lost its connection")
            }
        } else {
            // Every gradient is read back before the first all-reduce, so the time until then is
            // this rank's own compute, without waiting for the others.
            var reductions: [() throws -> Void] = []
            while nextBucket < plan.buckets.count {
                let (prepare, reduce) = try launch(nextBucket)
                try prepare()
                reductions.append(reduce)
                nextBucket += 1
            }
            computeDone.nanoseconds.store(DispatchTime.now().uptimeNanoseconds, ordering: .releasing)
            // In a trace: the all-reduces, with the wait for the slowest rank.
            try profiled("all-reduce", category: "communicate", arguments: ["buckets": "\(reductions.count)"]) {
                for reduce in reductions { try reduce() }
            }
        }
        let last = plan.buckets.count - 1
        let control = UnsafeMutableBufferPointer(rebasing: staging[last][plan.buckets[last].count...])
        for bucket in plan.buckets.indices {
            for entry in plan.buckets[bucket].entries {
                let parameter = parameters[entry.parameter]
                guard control[3 + entry.parameter] > 0 else {
                    parameter.value.grad = nil
                    continue
                }
                let flat = flats[bucket], shape = parameter.value.shape
                if entry.offset == 0 && inPlace[bucket] { continue }  // reduced in its own memory
                if entry.offset == 0 {
                    parameter.value.grad = flat.makeView(shape: shape, strides: Layout.rowMajorStrides(shape), offset: 0)
                    continue
                }
                let target = averaged[entry.parameter]
                try target.backend.copy(StridedView(contiguous: flat.buffer, offset: entry.offset, shape: shape), to: target.view)
                parameter.value.grad = target
            }
        }
        let done = computeDone.nanoseconds.load(ordering: .acquiring)
        return (Double(control[0]), Int(control[1].rounded()), control[2] > 0, Double(done &- stepStart) / 1e9)
    }

    /// Copies bucket `index`'s gradients into its tensor and returns its two jobs: `prepare` reads
    /// it back (once) and fills in what the device does not hold; `reduce` all-reduces it and
    /// writes it back.
    private func launch(_ index: Int) throws -> (prepare: () throws -> Void, reduce: () throws -> Void) {
        let bucket = plan.buckets[index]
        let flat = flats[index]
        let own = separated[index].flatMap { present[$0.parameter] ? ownMemory(of: parameters[$0.parameter].value) : nil }
        inPlace[index] = own != nil
        var presence: [Bool] = []
        presence.reserveCapacity(bucket.entries.count)
        for entry in bucket.entries {
            let has = present[entry.parameter]
            presence.append(has)
            guard has, !(entry.offset == 0 && own != nil), let gradient = parameters[entry.parameter].value.grad else { continue }
            try flat.backend.copy(
                gradient.view, to: StridedView(contiguous: flat.buffer, offset: entry.offset, shape: gradient.shape))
        }
        let isLast = index == plan.buckets.count - 1
        if isLast, let loss { try loss.copyElement(to: flat, at: bucket.count) }
        let control = isLast ? (hasLoss: loss != nil, count: Float(localCount), stop: stopRequested, present: present) : nil
        let memory = staging[index], weight = self.weight, deviceBacked = stagingIsDevice
        let communicator = self.communicator, computeDone = self.computeDone, overlapping = overlaps && !measuring
        let prepare = {
            if !deviceBacked {
                try flat.backend.read(flat.buffer, atByte: 0, into: UnsafeMutableRawBufferPointer(memory))
            }
            for (entry, has) in zip(bucket.entries, presence) where !has {
                UnsafeMutableBufferPointer(rebasing: memory[entry.offset..<(entry.offset + entry.count)]).update(repeating: 0)
            }
            if let control {
                let base = bucket.count
                memory[base] = control.hasLoss ? memory[base] * weight : 0
                memory[base + 1] = control.count
                memory[base + 2] = control.stop ? 1 : 0
                for (parameter, has) in control.present.enumerated() { memory[base + 3 + parameter] = has ? 1 : 0 }
                if overlapping { computeDone.nanoseconds.store(DispatchTime.now().uptimeNanoseconds, ordering: .releasing) }
            }
        }
        let split = separated[index]?.count, sparse = rowSparse[index]
        let reduce = {
            if let split {
                // The largest gradient alone (in its own memory, or at the bucket's start), then the rest.
                let largest = own ?? UnsafeMutableBufferPointer(rebasing: memory[..<split])
                if let sparse {
                    try sparse.allReduceSum(largest, communicator: communicator)
                } else {
                    try communicator.allReduceSum(largest)
                }
                if memory.count > split { try communicator.allReduceSum(UnsafeMutableBufferPointer(rebasing: memory[split...])) }
            } else {
                try communicator.allReduceSum(memory)
            }
            if !deviceBacked {
                try flat.backend.write(UnsafeRawBufferPointer(memory), to: flat.buffer, atByte: 0)
            }
        }
        return (prepare, reduce)
    }

    /// The host memory of `leaf`'s gradient when it may be all-reduced where it is: float32, dense,
    /// on a host-memory device, and held by nothing but `leaf` (no other tensor or view shares its
    /// memory); else `nil`.
    private func ownMemory(of leaf: Tensor) -> UnsafeMutableBufferPointer<Float>? {
        guard stagingIsDevice, isKnownUniquelyReferenced(&leaf.grad), let gradient = leaf.grad,
              gradient.dtype == .float32, gradient.isContiguous, gradient.holdsBufferAlone(),
              case .host = gradient.buffer.handle
        else { return nil }
        return UnsafeMutableBufferPointer(start: gradient.buffer.floats + gradient.offset, count: gradient.count)
    }
}
