/// Whether operations record their backward functions (task-local; on by default).
public enum GradMode {
    @TaskLocal package static var isEnabled = true

    /// Whether operations currently record gradients.
    public static var enabled: Bool { isEnabled }
}

/// Runs `body` without recording gradients (evaluation, optimizer updates).
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false, operation: body)
}
