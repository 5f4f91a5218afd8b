import Dispatch
import Foundation
import Synchronization

/// Turns the first Ctrl-C (SIGINT, and under MPI also SIGTERM, which `mpirun` sends every rank when
/// it is interrupted) into a request to stop after the current step, so the training loop can write
/// its checkpoint before exiting; a second one exits at once.
final class InterruptWatcher: Sendable {
    /// The flag the signal handler sets (a class, so the handler can share it).
    private final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    private let requested = Flag()
    private let sources: [UncheckedSource]

    /// A dispatch source, which is only touched on creation and cancellation.
    private struct UncheckedSource: @unchecked Sendable {
        let signal: Int32
        let value: any DispatchSourceSignal
    }

    /// Starts watching `signals`; `quiet` leaves the notices to another process (an MPI rank other than 0).
    init(signals: [Int32] = [SIGINT], quiet: Bool = false) {
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            return UncheckedSource(signal: number, value: source)
        }
        for source in sources {
            source.value.setEventHandler { [requested] in
                if requested.value.exchange(true, ordering: .relaxed) {
                    if !quiet { FileHandle.standardError.write(Data("\ninterrupted again: exiting without saving\n".utf8)) }
                    exit(130)
                }
                if !quiet {
                    FileHandle.standardError.write(Data("\ninterrupt: finishing the current step, then saving (Ctrl-C again to quit now)\n".utf8))
                }
            }
            source.value.resume()
        }
    }

    /// Whether Ctrl-C has been pressed.
    var isRequested: Bool { requested.value.load(ordering: .relaxed) }

    /// Stops watching and restores the default behaviour of the signals.
    func stop() {
        for source in sources {
            source.value.cancel()
            signal(source.signal, SIG_DFL)
        }
    }
}
