/// How gradients are packed for the all-reduce: parameters in reverse order (the order in which
/// the backward pass completes their gradients), cut into buckets of a small first size, then a
/// larger one, as PyTorch's DDP does (1 MB, then 25 MB).
public struct GradientBuckets: Sendable, Equatable {
    /// One parameter's place in a bucket.
    public struct Entry: Sendable, Equatable {
        /// The parameter's index in the optimizer's list.
        public var parameter: Int
        /// Its first element in the bucket.
        public var offset: Int
        /// Its element count.
        public var count: Int
    }

    /// The buckets in the order they are reduced, each its entries and element count.
    public let buckets: [(entries: [Entry], count: Int)]
    /// For each parameter, its bucket.
    public let bucketOfParameter: [Int]

    /// Packs parameters of `counts` elements (4 bytes each), the last parameter first; a bucket is
    /// closed once it holds at least `firstBucketBytes` (the first) or `bucketBytes` (the others).
    /// Within a bucket's memory the largest parameter comes first, at offset 0, so its averaged
    /// gradient can be read in place (an optimizer reads whole buffers from their start); the
    /// others follow in bucket order.
    public init(counts: [Int], firstBucketBytes: Int = 1 << 20, bucketBytes: Int = 25 << 20) {
        var members: [[Int]] = []
        var bucketOfParameter = [Int](repeating: 0, count: counts.count)
        var current: [Int] = [], size = 0
        for index in counts.indices.reversed() {
            current.append(index)
            bucketOfParameter[index] = members.count
            size += counts[index]
            if size * 4 >= (members.isEmpty ? firstBucketBytes : bucketBytes) {
                members.append(current)
                current = []
                size = 0
            }
        }
        if !current.isEmpty { members.append(current) }
        buckets = members.map { parameters in
            let largest = parameters.indices.max { counts[parameters[$0]] < counts[parameters[$1]] } ?? 0
            var offsets = [Int](repeating: 0, count: parameters.count), next = counts[parameters[largest]]
            for position in parameters.indices where position != largest {
                offsets[position] = next
                next += counts[parameters[position]]
            }
            let entries = parameters.indices.map { Entry(parameter: parameters[$0], offset: offsets[$0], count: counts[parameters[$0]]) }
            return (entries, next)
        }
        self.bucketOfParameter = bucketOfParameter
    }

    /// Equal when the same parameters fall in the same places.
    public static func == (lhs: GradientBuckets, rhs: GradientBuckets) -> Bool {
        lhs.bucketOfParameter == rhs.bucketOfParameter
            && lhs.buckets.map(\.entries) == rhs.buckets.map(\.entries)
    }
}
