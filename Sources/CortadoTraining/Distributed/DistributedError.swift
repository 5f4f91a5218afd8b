/// Why a data-parallel run could not start or continue.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// The ranks disagree on the run's options or data; the message says what differs on which ranks.
    case mismatchedRanks(String)
    /// A rank failed to prepare; the message names the ranks and their errors.
    case rankFailed(String)
    /// A collective operation failed or timed out.
    case communication(String)
    /// A flag that only makes sense per rank (`--device`, `--threads`) does not fit the job.
    case invalidRankOption(String)

    /// A message for the user.
    public var description: String {
        switch self {
        case let .mismatchedRanks(message), let .rankFailed(message), let .communication(message),
             let .invalidRankOption(message):
            return message
        }
    }
}
