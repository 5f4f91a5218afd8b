import Foundation

/// The default device used when a tensor is created without an explicit device.
///
/// Inside ``withDefaultDevice(_:_:)-(_,()->R)`` it is the scoped device (a task-local value, so it
/// follows structured concurrency). Outside any scope it is `CORTADO_DEVICE` if set, else `auto`,
/// resolved once per process.
public enum DefaultDevice {
    @TaskLocal static var scoped: Device?

    /// The device new tensors go to in the current scope.
    /// - Throws: if `CORTADO_DEVICE` names no device on this machine.
    public static var current: Device {
        get throws {
            if let device = scoped { return device }
            return try processDefault.get()
        }
    }

    private static let processDefault: Result<Device, CortadoError> = {
        let spec = ProcessEnvironment.value("CORTADO_DEVICE") ?? "auto"
        do {
            return .success(try Device.resolve(spec).device)
        } catch let error as CortadoError {
            return .failure(error)
        } catch {
            return .failure(.invalidArgument("CORTADO_DEVICE=\(spec): \(error)"))
        }
    }()
}

/// Runs `body` with `device` as the default device for tensors created without an explicit one.
public func withDefaultDevice<R>(_ device: Device, _ body: () throws -> R) rethrows -> R {
    try DefaultDevice.$scoped.withValue(device, operation: body)
}

/// Runs the async `body` with `device` as the default device for tensors created without an explicit one.
public func withDefaultDevice<R>(
    _ device: Device, _ body: () async throws -> R
) async rethrows -> R {
    try await DefaultDevice.$scoped.withValue(device, operation: body)
}
