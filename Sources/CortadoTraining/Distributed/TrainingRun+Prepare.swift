import Foundation

extension TrainingRun {
    /// Prepares a run on every rank of `communicator` together, as `mpirun -np N cortado train`
    /// does: each rank resolves its device and prepares its part; then the ranks compare what
    /// they prepared, and rank 0's parameters and optimizer state are copied to every other rank.
    ///
    /// Every rank throws the same error when any rank failed to prepare (the message names the
    /// ranks and their errors) or when the ranks disagree on the options, the model or the data
    /// (``DistributedError/mismatchedRanks(_:)``, saying what differs), so no rank is left waiting.
    /// With one rank this is ``init(options:device:communicator:)``.
    public static func prepare(
        options: TrainingOptions, communicator: any Communicator, device: () throws -> Device
    ) throws -> TrainingRun {
        guard communicator.size > 1 else { return try TrainingRun(options: options, device: device(), communicator: communicator) }
        var run: TrainingRun?
        var report = RankReport()
        do {
            let prepared = try TrainingRun(options: options, device: device(), communicator: communicator)
            report.fingerprint = try RunFingerprint(prepared)
            report.device = prepared.rankDevices[0]
            run = prepared
        } catch {
            report.error = "\(error)"
        }
        let reports = try communicator.allGather([UInt8](JSONEncoder().encode(report))).enumerated().map { rank, bytes in
            (try? JSONDecoder().decode(RankReport.self, from: Data(bytes))) ?? RankReport(error: "rank \(rank) sent an unreadable report")
        }
        let failures = reports.enumerated().compactMap { rank, report in report.error.map { (rank, $0) } }
        if !failures.isEmpty {
            // One line per distinct error, with the ranks that hit it.
            var lines: [(message: String, ranks: [Int])] = []
            for (rank, message) in failures {
                if let index = lines.firstIndex(where: { $0.message == message }) { lines[index].ranks.append(rank) } else { lines.append((message, [rank])) }
            }
            if lines.count == 1, lines[0].ranks.count == communicator.size { throw DistributedError.rankFailed(lines[0].message) }
            throw DistributedError.rankFailed(lines.map { line in
                "\(line.ranks.count == 1 ? "rank" : "ranks") \(line.ranks.map(String.init).joined(separator: ", ")): \(line.message)"
            }.joined(separator: "\n"))
        }
        let reference = reports[0].fingerprint!
        let differences = reports.enumerated().dropFirst().flatMap { rank, report in reference.differences(report.fingerprint!, rank: rank) }
        guard differences.isEmpty, let run else {
            throw DistributedError.mismatchedRanks(
                "the ranks disagree on the run (start every rank with the same flags and data):\n  " + differences.joined(separator: "\n  "))
        }
        run.rankDevices = reports.map { $0.device ?? "?" }
        try run.broadcastState()
        return run
    }

    /// Copies rank 0's parameters, running statistics and optimizer state to every rank.
    func broadcastState() throws {
        for (_, tensor) in model.stateTensors() { try communicator.broadcast(tensor, root: 0) }
        for (_, tensor) in optimizer.stateTensors() { try communicator.broadcast(tensor, root: 0) }
    }
}

/// What each rank reports after preparing: its error, or its fingerprint and device.
struct RankReport: Codable {
    var error: String?
    var fingerprint: RunFingerprint?
    var device: String?
}
