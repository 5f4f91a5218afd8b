import Dispatch
import Foundation
import Synchronization

/// Turns the first SIGINT (Ctrl-C), SIGTERM (`kill`, and what `mpirun` sends every rank when it is
/// interrupted) or SIGHUP (the terminal closed) into a request to stop after the current step, so
/// the training loop can write its checkpoint before exiting; a second one exits at once. The
/// command then exits 128 + the signal's number (130, 143, 129), as a shell reports a process
/// the signal killed.
final class InterruptWatcher: Sendable {
    /// The signals watched by default.
    static let stopSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// The first signal received (0 for none), which the signal handler sets.
    private final class Flag: Sendable {
        let value = Atomic<Int32>(0)
    }

    private let requested = Flag()
    private let sources: [UncheckedSource]

    /// A dispatch source, which is only touched on creation and cancellation.
    private struct UncheckedSource: @unchecked Sendable {
        let signal: Int32
        let value: any DispatchSourceSignal
    }

    /// Starts watching `signals`; `quiet` leaves the notices to another process (an MPI rank other than 0).
    init(signals: [Int32] = InterruptWatcher.stopSignals, quiet: Bool = false) {
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            return UncheckedSource(signal: number, value: source)
        }
        for source in sources {
            let number = source.signal
            source.value.setEventHandler { [requested] in
                let (exchanged, first) = requested.value.compareExchange(expected: 0, desired: number, ordering: .relaxed)
                if !exchanged {
                    if !quiet { FileHandle.standardError.write(Data("\ninterrupted again: exiting without saving\n".utf8)) }
                    exit(128 + first)
                }
                if !quiet {
                    let name = number == SIGINT ? "interrupt" : number == SIGTERM ? "SIGTERM" : "SIGHUP"
                    FileHandle.standardError.write(Data("\n\(name): finishing the current step, then saving (Ctrl-C again to quit now)\n".utf8))
                }
            }
            source.value.resume()
        }
    }

    /// Whether a stop signal has arrived.
    var isRequested: Bool { requested.value.load(ordering: .relaxed) != 0 }

    /// The exit status for the signal received: 128 + its number (`nil` when none arrived).
    var exitStatus: Int32? {
        let number = requested.value.load(ordering: .relaxed)
        return number == 0 ? nil : 128 + number
    }

    /// Stops watching and restores the default behaviour of the signals.
    func stop() {
        for source in sources {
            source.value.cancel()
            signal(source.signal, SIG_DFL)
        }
    }
}
