import Cortado
import Testing

/// Records an issue at the caller's line unless `|actual − expected| ≤ atol + rtol·|expected|` for
/// every element (NaNs must match NaNs, infinities must match exactly).
func assertClose(
    _ actual: [Float], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-6, _ context: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.count == expected.count else {
        Issue.record("\(context) count \(actual.count) ≠ expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var failures: [String] = []
    var worst: Float = 0
    for i in actual.indices {
        let (a, e) = (actual[i], expected[i])
        if a.isNaN && e.isNaN { continue }
        if a.isInfinite || e.isInfinite {
            if a != e { failures.append("[\(i)] \(a) ≠ \(e)") }
            continue
        }
        let error = abs(a - e)
        let allowed = atol + rtol * abs(e)
        if !(error <= allowed) {
            failures.append("[\(i)] \(a) vs \(e)")
            worst = max(worst, error / max(allowed, .leastNormalMagnitude))
        }
    }
    if !failures.isEmpty {
        let examples = failures.prefix(6).joined(separator: ", ")
        Issue.record(
            "\(context) \(failures.count) of \(actual.count) elements differ (rtol \(rtol), atol \(atol); worst \(worst)× the tolerance): \(examples)",
            sourceLocation: sourceLocation)
    }
}

/// `assertClose` for a tensor's values and shape.
func assertClose(
    _ tensor: Tensor, _ expected: [Float], shape: [Int]? = nil, rtol: Float = 1e-5, atol: Float = 1e-6,
    _ context: String = "", sourceLocation: SourceLocation = #_sourceLocation
) throws {
    if let shape, tensor.shape != shape {
        Issue.record("\(context) shape \(tensor.shape) ≠ expected \(shape)", sourceLocation: sourceLocation)
        return
    }
    assertClose(try tensor.toArray(), expected, rtol: rtol, atol: atol, context, sourceLocation: sourceLocation)
}

/// Runs `body` and records an issue unless every device buffer it allocated was released.
func expectNoLeaks<R>(
    _ context: String = "", sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R
) rethrows -> R {
    let tracker = BufferLeakTracker()
    let result = try tracker.track(body)
    #expect(tracker.liveBuffers == 0, "\(context) \(tracker.liveBuffers) buffers still alive", sourceLocation: sourceLocation)
    return result
}
