import Foundation
import SwiftProtobuf

/// Writes a TensorBoard event file: scalars and histograms tagged by name, each at a step.
///
/// `TensorBoardWriter(logDirectory:)` starts a new file `events.out.tfevents.<time>.<host>.<pid>`
/// in the folder (made if missing); TensorBoard shows every event file of a folder as one run, so a
/// resumed training run that writes a new file to the same folder continues the same curves.
/// `tensorboard --logdir DIR` serves them.
public final class TensorBoardWriter {
    /// The event file.
    public var url: URL { records.url }
    private let records: TFRecordWriter

    /// Starts a new event file in `logDirectory`.
    /// - Throws: ``FormatError`` when the folder cannot be made or the file created.
    public init(logDirectory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        } catch {
            throw FormatError(logDirectory, "cannot make the log folder: \(error.localizedDescription)")
        }
        let now = Date().timeIntervalSince1970
        let host = ProcessInfo.processInfo.hostName.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
        let base = "events.out.tfevents.\(Int(now)).\(host.isEmpty ? "localhost" : host).\(ProcessInfo.processInfo.processIdentifier)"
        var name = base, attempt = 1
        while FileManager.default.fileExists(atPath: logDirectory.appendingPathComponent(name).path) {
            attempt += 1
            name = "\(base).\(attempt)"
        }
        records = try TFRecordWriter(creating: logDirectory.appendingPathComponent(name))
        var event = Tensorboard_Event()
        event.wallTime = now
        event.fileVersion = "brain.Event:2"
        try write(event)
    }

    /// Writes scalars, each under its tag, at `step`.
    public func scalars(_ values: [(tag: String, value: Double)], step: Int) throws {
        guard !values.isEmpty else { return }
        var summary = Tensorboard_Summary()
        summary.value = values.map { tag, value in
            var entry = Tensorboard_Summary.Value()
            entry.tag = tag
            entry.simpleValue = Float(value)
            return entry
        }
        try write(summary: summary, step: step)
    }

    /// Writes a histogram of `values` under `tag` at `step`: `buckets` equal-width buckets between the
    /// smallest and largest finite value (TensorBoard's bucket `i` holds values up to
    /// `bucket_limit[i]`), with the count, sum and sum of squares.
    public func histogram(tag: String, values: [Float], step: Int, buckets: Int = 30) throws {
        let finite = values.lazy.filter(\.isFinite).map(Double.init)
        guard let low = finite.min(), let high = finite.max() else { return }
        var histogram = Tensorboard_HistogramProto()
        histogram.min = low
        histogram.max = high
        var count = 0.0, sum = 0.0, squares = 0.0
        let bucketCount = high > low ? max(buckets, 1) : 1
        let width = (high - low) / Double(bucketCount)
        var counts = [Double](repeating: 0, count: bucketCount)
        for value in finite {
            count += 1
            sum += value
            squares += value * value
            let index = width > 0 ? min(Int((value - low) / width), bucketCount - 1) : 0
            counts[index] += 1
        }
        histogram.num = count
        histogram.sum = sum
        histogram.sumSquares = squares
        histogram.bucketLimit = (1...bucketCount).map { $0 == bucketCount ? high : low + width * Double($0) }
        histogram.bucket = counts
        var entry = Tensorboard_Summary.Value()
        entry.tag = tag
        entry.histo = histogram
        var summary = Tensorboard_Summary()
        summary.value = [entry]
        try write(summary: summary, step: step)
    }

    /// Flushes the file, so that a TensorBoard watching it sees everything written so far.
    public func flush() throws { try records.flush() }

    private func write(summary: Tensorboard_Summary, step: Int) throws {
        var event = Tensorboard_Event()
        event.wallTime = Date().timeIntervalSince1970
        event.step = Int64(step)
        event.summary = summary
        try write(event)
    }

    private func write(_ event: Tensorboard_Event) throws {
        let payload: Data
        do {
            payload = try event.serializedData()
        } catch {
            throw FormatError(url, "cannot encode an event: \(error)")
        }
        try records.write(payload)
    }
}
