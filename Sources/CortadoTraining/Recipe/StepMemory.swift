/// The bytes one step needs, as a fixed part and a part per sample of the batch, estimated from the
/// model's ``ActivationProfile`` before anything is allocated.
///
/// The estimate is analytic: it runs nothing, draws no random number and allocates nothing, so it
/// changes none of a run's results, and it costs nothing. It is meant to be an upper bound of the
/// caching allocator's peak (``MemoryStatistics/peakLiveBytes``) and within a small factor of it:
/// every tensor is counted at 4 bytes (also in bf16 or fp16, whose gradients partly stay float32),
/// plus the allocator's size-class slack of up to 25 %.
///
/// - A training step keeps every tensor of the forward pass until backward, which then holds a few
///   tensors of the largest's size at once; the parameters come with their gradients, two optimizer
///   moments (Adam) and a compute-type copy (mixed precision).
/// - A pass without gradients (evaluation, prediction, embedding) holds the widest layer's tensors
///   and a few of the largest's size; the parameters once.
public struct StepMemory: Sendable, Equatable {
    /// Bytes that do not depend on the batch: parameters and their state, data already loaded.
    public var fixedBytes: Double
    /// Bytes per sample of the batch.
    public var bytesPerSample: Double

    /// A step of `fixedBytes` plus `bytesPerSample` per sample.
    public init(fixedBytes: Double, bytesPerSample: Double) {
        self.fixedBytes = fixedBytes
        self.bytesPerSample = bytesPerSample
    }

    /// Bytes a tensor element is counted at, times the allocator's size-class slack.
    static let elementBytes = 4 * 1.25
    /// Copies of the parameters a training step holds: weights, gradients, two optimizer moments
    /// and a compute-type copy.
    static let trainingParameterCopies = 5.0
    /// Tensors of the largest size a backward pass (or a layer without gradients) holds at once
    /// besides the saved ones.
    static let backwardLargest = 3.0, inferenceLargest = 2.0
    /// Small buffers of any step (the loss ring, gradient seeds, index tensors).
    static let overhead = 16.0 * 1024 * 1024

    /// A training step (forward, backward, optimizer) of `profile`; `residentBytes` are already in
    /// memory for the run (the data set).
    public static func training(_ profile: ActivationProfile, residentBytes: Double = 0) -> StepMemory {
        StepMemory(
            fixedBytes: profile.parameters * elementBytes * trainingParameterCopies + overhead + residentBytes,
            bytesPerSample: (profile.saved + backwardLargest * profile.largest) * elementBytes)
    }

    /// A forward pass without gradients of `profile` (evaluation, prediction, embedding).
    public static func inference(_ profile: ActivationProfile, residentBytes: Double = 0) -> StepMemory {
        StepMemory(
            fixedBytes: profile.parameters * elementBytes + overhead + residentBytes,
            bytesPerSample: (profile.widestLayer + inferenceLargest * profile.largest) * elementBytes)
    }

    /// The bytes of a step over `batch` samples.
    public func bytes(batch: Int) -> Double {
        fixedBytes + bytesPerSample * Double(max(batch, 0))
    }

    /// The largest batch whose step fits in `budget` bytes (0 when not even one sample fits).
    public func largestBatch(within budget: Double) -> Int {
        guard bytesPerSample > 0 else { return budget >= fixedBytes ? Int.max : 0 }
        let samples = ((budget - fixedBytes) / bytesPerSample).rounded(.down)
        guard samples.isFinite, samples >= 1 else { return 0 }
        return samples >= Double(Int.max / 2) ? Int.max / 2 : Int(samples)
    }
}
