import CortadoRuntime
import Foundation
import Testing

/// The locked environment: what it sets is what it, `getenv` and `ProcessInfo` read back, and a
/// value already there is kept when asked.
@Suite("Process environment")
struct ProcessEnvironmentTests {
    @Test("set, overwrite or keep, and read back through getenv and ProcessInfo")
    func setAndRead() {
        let name = "CORTADO_TEST_ENVIRONMENT_\(getpid())"
        #expect(ProcessEnvironment.value(name) == nil)
        ProcessEnvironment.set(name, "one")
        ProcessEnvironment.set(name, "two", overwrite: false)
        #expect(ProcessEnvironment.value(name) == "one")
        ProcessEnvironment.set(name, "three")
        #expect(ProcessEnvironment.value(name) == "three")
        #expect(String(cString: getenv(name)) == "three")
        #expect(ProcessEnvironment.all()[name] == "three")
        #expect(ProcessInfo.processInfo.environment[name] == "three")
        #expect(ProcessEnvironment.whileLocked { getenv(name).map { String(cString: $0) } } == "three")
    }
}
