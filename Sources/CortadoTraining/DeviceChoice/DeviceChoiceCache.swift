import Foundation

/// What a cached device decision is keyed by: the workload (signature, batch, precision) and each
/// candidate device's id, name, platform and driver version, so a new driver measures again.
public struct DeviceChoiceKey: Codable, Sendable, Equatable {
    /// The workload's signature.
    public var signature: String
    /// Samples per step.
    public var batch: Int
    /// The compute precision.
    public var precision: String
    /// `id name platform driver` of every candidate, in order.
    public var devices: [String]

    /// The key of `workload` on `devices`.
    public init(workload: DeviceWorkload, devices: [Device]) {
        signature = workload.signature
        batch = workload.batch
        precision = workload.precision
        self.devices = devices.map { device in
            guard let info = try? device.info else { return device.id }
            return [device.id, info.name, info.platform ?? "", info.driverVersion].joined(separator: " | ")
        }
    }

    /// The text the file name is hashed from.
    var text: String { ([signature, "\(batch)", precision] + devices).joined(separator: "\u{1}") }
}

/// Decisions of ``DeviceProbe``, one small JSON file per key in `device-choice/` of Cortado's cache
/// directory (`CORTADO_CACHE_DIR`, else `$XDG_CACHE_HOME/cortado`, else `~/.cache/cortado`), written
/// atomically.
public struct DeviceChoiceCache: Sendable {
    /// The directory holding the files.
    public let directory: URL

    /// The cache in `directory`, or in `device-choice/` of Cortado's cache directory when `nil`.
    public init(directory: URL? = nil) {
        self.directory = directory ?? CacheDirectory.url.appendingPathComponent("device-choice")
    }

    /// One stored decision.
    public struct Entry: Codable, Sendable, Equatable {
        /// What it was measured for.
        public var key: DeviceChoiceKey
        /// Every candidate's speed.
        public var speeds: [DeviceSpeed]
        /// The id of the device chosen.
        public var chosen: String

        /// Creates an entry.
        public init(key: DeviceChoiceKey, speeds: [DeviceSpeed], chosen: String) {
            self.key = key
            self.speeds = speeds
            self.chosen = chosen
        }
    }

    /// The file for `key`.
    public func file(for key: DeviceChoiceKey) -> URL {
        directory.appendingPathComponent("\(StableHash.hex(key.text)).json")
    }

    /// The largest file read: 64 KiB (a real one has a few hundred bytes).
    static let maximumFileSize = 1 << 16

    /// The decision stored for `key`: `nil` when there is none, a failure naming the file and the
    /// problem when it exists but cannot be used (the caller measures again).
    public func load(_ key: DeviceChoiceKey) -> Result<Entry, CortadoError>? {
        let url = file(for: key)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        func failure(_ problem: String) -> Result<Entry, CortadoError> {
            .failure(.io("\(url.path): \(problem); measuring again"))
        }
        guard let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int,
              size <= Self.maximumFileSize else { return failure("not a readable file of at most \(Self.maximumFileSize) bytes") }
        let entry: Entry
        do {
            entry = try JSONDecoder().decode(Entry.self, from: Data(contentsOf: url))
        } catch {
            return failure("unreadable (\(Self.describe(error)))")
        }
        guard entry.key == key else { return failure("holds a decision for another workload or driver") }
        guard entry.speeds.contains(where: { $0.device == entry.chosen }) else { return failure("chooses a device it did not measure") }
        return .success(entry)
    }

    /// Stores `entry` for `key`, creating the directory, replacing the file atomically.
    public func store(_ entry: Entry, for key: DeviceChoiceKey) throws {
        let url = file(for: key)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(entry).write(to: url, options: .atomic)
        } catch {
            throw CortadoError.io("\(url.path): cannot be written: \(error.localizedDescription)")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): return "not JSON: \(context.debugDescription)"
        case DecodingError.keyNotFound(let key, _): return "no \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "a wrong value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return error.localizedDescription
        }
    }
}
