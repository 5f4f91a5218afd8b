/// Which device each rank of a data-parallel job uses, from one `--device` value that every rank
/// receives: a comma-separated list gives each rank its own (`gpu:0,gpu:1,cpu`), and `auto` maps a
/// rank to the GPU of its machine numbered by its local rank.
public enum RankDevice {
    /// The device string for `rank` (of `size`, `localRank` on its machine of `gpus` OpenCL GPUs).
    /// - Throws: ``DistributedError/invalidRankOption(_:)`` when a list does not give one device per rank.
    public static func spec(_ value: String, rank: Int, size: Int, localRank: Int, gpus: Int) throws -> String {
        let items = value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard items.count == 1 || items.count == size else {
            throw DistributedError.invalidRankOption(
                "--device \(value) lists \(items.count) devices for \(size) \(size == 1 ? "rank" : "ranks"); give one device for all, or one per rank")
        }
        let item = items.count == 1 ? items[0] : items[rank]
        guard item.lowercased() == "auto", size > 1, gpus > 0 else { return item }
        return "gpu:\(localRank % gpus)"
    }
}
