import COpenCL
import Foundation
import Synchronization

/// A test hook in the OpenCL call wrapper: makes chosen OpenCL calls fail with a chosen status, or
/// skips a kernel (a deliberately broken kernel), so that every error path and fallback can be
/// tested on a device that never fails by itself.
///
/// A fault is written `CALL[@NAME]:EFFECT[*TIMES]`, several separated by commas:
/// - `CALL` is the OpenCL function (`clEnqueueNDRangeKernel`, `clCreateBuffer`, `clBuildProgram`,
///   `clCreateKernel`, `clEnqueueReadBuffer`, `clEnqueueWriteBuffer`, `clEnqueueMapBuffer`, `clFinish`);
/// - `NAME`, when given, the kernel (launches, `clCreateKernel`) or program (`clBuildProgram`);
/// - `EFFECT` a status (`-54` or `CL_INVALID_WORK_GROUP_SIZE`), or `skip`: the call is not made
///   and reports success (a kernel that leaves its output unwritten);
/// - `TIMES`, when given, how many matching calls fail (every one otherwise).
///
/// A refused work-group size (`CL_INVALID_WORK_GROUP_SIZE`, `CL_INVALID_WORK_ITEM_SIZE`) is injected
/// only into launches that give one, as a device refuses only those: a fault without `TIMES`
/// models a device that never runs the kernel's size.
///
/// Tests set faults for one task with ``withFaults(_:_:)``; debug builds also read the environment
/// variable `CORTADO_CL_INJECT` (for tests of the `cortado` binary). Release builds ignore it.
package enum CLFaultInjection {
    /// One injected fault.
    package struct Fault: Sendable, Equatable {
        /// What happens instead of the call.
        package enum Effect: Sendable, Equatable {
            /// The call returns this status.
            case status(Int32)
            /// The call is not made and reports success.
            case skip
        }
        /// The OpenCL function.
        package var call: String
        /// The kernel or program, or `nil` for any.
        package var name: String?
        /// The effect.
        package var effect: Effect
        /// How many matching calls fail; `nil` for all.
        package var times: Int?

        /// A fault of `call` on `name` (any when `nil`), `times` times (always when `nil`).
        package init(call: String, name: String?, effect: Effect, times: Int?) {
            self.call = call
            self.name = name
            self.effect = effect
            self.times = times
        }
    }

    /// A set of faults with their remaining counts (shared by the calls of one task or process).
    package final class FaultSet: Sendable {
        private let faults: Mutex<[Fault]>

        /// The faults of `spec` (see ``CLFaultInjection``).
        package init(_ spec: String) throws {
            faults = Mutex(try CLFaultInjection.parse(spec))
        }

        /// The effect for `call` on `name`, consuming one of its times.
        func effect(call: String, name: String?, ignoring ignored: Set<Int32>) -> Fault.Effect? {
            faults.withLock { faults in
                guard let index = faults.firstIndex(where: { fault in
                    fault.call == call && (fault.name == nil || fault.name == name) && fault.times != 0
                        && !(ignored.contains { fault.effect == .status($0) })
                }) else { return nil }
                if let times = faults[index].times { faults[index].times = times - 1 }
                return faults[index].effect
            }
        }
    }

    /// The faults of the current task (set by ``withFaults(_:_:)``).
    @TaskLocal static var taskFaults: FaultSet?

    /// The faults of `CORTADO_CL_INJECT`, in debug builds.
    static let environmentFaults: FaultSet? = {
        #if DEBUG
        guard let spec = ProcessEnvironment.value("CORTADO_CL_INJECT"), !spec.isEmpty else { return nil }
        do {
            let faults = try FaultSet(spec)
            RuntimeNotes.emit("CORTADO_CL_INJECT is set: OpenCL faults are injected (\(spec))")
            return faults
        } catch {
            RuntimeNotes.emit("CORTADO_CL_INJECT ignored: \(error)")
            return nil
        }
        #else
        return nil
        #endif
    }()

    /// Runs `body` with the faults of `spec` injected into the OpenCL calls it makes on this task.
    package static func withFaults<R>(_ spec: String, _ body: () throws -> R) throws -> R {
        try $taskFaults.withValue(try FaultSet(spec), operation: body)
    }

    /// The injected effect for `call` on the kernel or program `name`, if any, other than the
    /// statuses `ignored`.
    static func effect(call: String, name: String?, ignoring ignored: Set<Int32> = []) -> Fault.Effect? {
        if let faults = taskFaults, let effect = faults.effect(call: call, name: name, ignoring: ignored) { return effect }
        return environmentFaults?.effect(call: call, name: name, ignoring: ignored)
    }

    /// Makes `call` through `body` unless a fault is injected for it: then its status (or success
    /// without the call, for `skip`). Faults of the statuses `ignored` do not apply to this call
    /// (a launch whose work-group size the driver chooses cannot have it refused).
    @inline(__always)
    static func intercept(_ call: String, _ name: String?, ignoring ignored: Set<Int32> = [], _ body: () -> cl_int) -> cl_int {
        switch effect(call: call, name: name, ignoring: ignored) {
        case let .status(code)?: return code
        case .skip?: return CL_SUCCESS
        case nil: return body()
        }
    }

    /// Parses a fault list (see ``CLFaultInjection``).
    /// - Throws: ``CortadoError/invalidArgument(_:)`` naming the part that does not parse.
    package static func parse(_ spec: String) throws -> [Fault] {
        try spec.split(separator: ",").map { part in
            let text = String(part).trimmingWhitespace()
            func fail(_ why: String) -> CortadoError {
                .invalidArgument("OpenCL fault '\(text)': \(why); expected CALL[@NAME]:STATUS|skip[*TIMES]")
            }
            guard let colon = text.lastIndex(of: ":") else { throw fail("no ':'") }
            let target = text[..<colon].split(separator: "@", maxSplits: 1).map(String.init)
            var effectText = String(text[text.index(after: colon)...])
            var times: Int?
            if let star = effectText.firstIndex(of: "*") {
                guard let count = Int(effectText[effectText.index(after: star)...]), count > 0 else {
                    throw fail("TIMES must be a positive number")
                }
                times = count
                effectText = String(effectText[..<star])
            }
            let effect: Fault.Effect
            if effectText == "skip" {
                effect = .skip
            } else if let code = Int32(effectText), code < 0 {
                effect = .status(code)
            } else if let code = openCLErrorCode(named: effectText), code < 0 {
                effect = .status(code)
            } else {
                throw fail("'\(effectText)' is neither a negative OpenCL status, a CL_… name nor skip")
            }
            guard let call = target.first, call.hasPrefix("cl") else { throw fail("the call must be an OpenCL function (cl…)") }
            return Fault(call: call, name: target.count > 1 ? target[1] : nil, effect: effect, times: times)
        }
    }
}
