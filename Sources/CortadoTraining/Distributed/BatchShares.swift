/// How many samples of each global batch each rank computes: proportional to per-rank weights
/// (equal for ``BatchBalance/even``, measured speeds for ``BatchBalance/auto``), by largest
/// remainders, so every rank computes the same split from the same weights.
public struct BatchShares: Sendable, Equatable {
    /// Each rank's weight (positive; only ratios matter).
    public private(set) var weights: [Double]

    /// Equal shares for `ranks` ranks.
    public init(ranks: Int) {
        weights = Array(repeating: 1, count: max(ranks, 1))
    }

    /// Shares proportional to `weights` (non-positive or non-finite weights count as the smallest positive one).
    public init(weights: [Double]) {
        let positive = weights.filter { $0 > 0 && $0.isFinite }
        let floor = positive.min() ?? 1
        self.weights = weights.isEmpty ? [1] : weights.map { $0 > 0 && $0.isFinite ? $0 : floor }
    }

    /// The samples of a `count`-sample batch for each rank, summing to `count`; every rank gets at
    /// least one sample when there are at least as many samples as ranks.
    public func split(_ count: Int) -> [Int] {
        let ranks = weights.count
        guard count > 0 else { return Array(repeating: 0, count: ranks) }
        let total = weights.reduce(0, +)
        let exact = weights.map { Double(count) * $0 / total }
        var shares = exact.map { Int($0.rounded(.down)) }
        var left = count - shares.reduce(0, +)
        // Largest remainders first; ties to the lower rank.
        let order = exact.indices.sorted { a, b in
            let (ra, rb) = (exact[a] - exact[a].rounded(.down), exact[b] - exact[b].rounded(.down))
            return ra != rb ? ra > rb : a < b
        }
        for rank in order where left > 0 {
            shares[rank] += 1
            left -= 1
        }
        // A rank without samples could not be measured again: give it one from the largest share.
        if count >= ranks {
            for rank in shares.indices where shares[rank] == 0 {
                let largest = shares.indices.max { shares[$0] < shares[$1] }!
                shares[largest] -= 1
                shares[rank] = 1
            }
        }
        return shares
    }

    /// The rows `offset ..< offset + count` of a `count`-sample batch that `rank` computes.
    public func rows(of count: Int, rank: Int) -> Range<Int> {
        let shares = split(count)
        let offset = shares[..<rank].reduce(0, +)
        return offset..<(offset + shares[rank])
    }
}
