import Dispatch
import Foundation
import Synchronization

/// Turns the first Ctrl-C (SIGINT) into a request to stop after the current step, so the training
/// loop can write its checkpoint before exiting; a second Ctrl-C exits at once.
final class InterruptWatcher: Sendable {
    /// The flag the signal handler sets (a class, so the handler can share it).
    private final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    private let requested = Flag()
    private let source: UncheckedSource

    /// The dispatch source, which is only touched on creation and cancellation.
    private struct UncheckedSource: @unchecked Sendable {
        let value: any DispatchSourceSignal
    }

    /// Starts watching SIGINT.
    init() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        self.source = UncheckedSource(value: source)
        source.setEventHandler { [requested] in
            if requested.value.exchange(true, ordering: .relaxed) {
                FileHandle.standardError.write(Data("\ninterrupted again: exiting without saving\n".utf8))
                exit(130)
            }
            FileHandle.standardError.write(Data("\ninterrupt: finishing the current step, then saving (Ctrl-C again to quit now)\n".utf8))
        }
        source.resume()
    }

    /// Whether Ctrl-C has been pressed.
    var isRequested: Bool { requested.value.load(ordering: .relaxed) }

    /// Stops watching and restores the default SIGINT behaviour.
    func stop() {
        source.value.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
