import Foundation

/// A thread that runs communication jobs one after another, in the order they were submitted.
///
/// Open MPI does not progress non-blocking collectives in the background (open-mpi/ompi#9759), so,
/// as Horovod does, gradient buckets are all-reduced with blocking calls on a thread of their own
/// while the training thread goes on with the backward pass.
final class CommunicationThread: @unchecked Sendable {
    // Every stored property below is read and written only while holding `condition`.
    private let condition = NSCondition()
    private var jobs: [() throws -> Void] = []
    private var running = false
    private var failure: (any Error)?
    private var stopping = false
    private var exited = false

    /// Starts the thread.
    init() {
        let thread = Thread { [self] in serve() }
        thread.name = "cortado.comm"
        thread.start()
    }

    /// Queues `job`; it runs after every job submitted before it. Once a job has failed, later
    /// ones are dropped and ``waitUntilIdle(timeout:)`` throws the failure.
    func submit(_ job: @escaping () throws -> Void) {
        condition.lock()
        jobs.append(job)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until every submitted job has run.
    /// - Returns: `false` when `timeout` seconds passed first.
    /// - Throws: the first error a job threw (once; the thread then runs jobs again).
    func waitUntilIdle(timeout: Double) throws -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while (!jobs.isEmpty || running) && failure == nil {
            if !condition.wait(until: deadline) { return false }
        }
        if let error = failure {
            failure = nil
            throw error
        }
        return true
    }

    /// Ends the thread after the jobs already queued.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !exited { condition.wait() }
        condition.unlock()
    }

    private func serve() {
        condition.lock()
        while true {
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping { break }
            let job = jobs.removeFirst()
            running = true
            condition.unlock()
            var error: (any Error)?
            do { try job() } catch let thrown { error = thrown }
            condition.lock()
            running = false
            if let error {
                failure = failure ?? error
                jobs.removeAll()
            }
            condition.broadcast()
        }
        exited = true
        condition.broadcast()
        condition.unlock()
    }
}
