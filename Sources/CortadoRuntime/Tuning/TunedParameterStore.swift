import Foundation

/// Where tuned launch parameters live: one JSON file per device and driver under
/// `CORTADO_CONFIG_DIR`, else `$XDG_CONFIG_HOME/cortado/tuned`, else `~/.config/cortado/tuned`.
public struct TunedParameterStore: Sendable {
    /// The directory holding the files.
    public let directory: URL

    /// The store in `directory`, or in the user's configuration directory when `nil`.
    public init(directory: URL? = nil) {
        if let directory {
            self.directory = directory
            return
        }
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["CORTADO_CONFIG_DIR"], !explicit.isEmpty {
            self.directory = URL(fileURLWithPath: explicit).appendingPathComponent("tuned")
        } else if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            self.directory = URL(fileURLWithPath: xdg).appendingPathComponent("cortado/tuned")
        } else {
            self.directory = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config/cortado/tuned")
        }
    }

    /// A stored tuning result.
    public struct Entry: Codable, Sendable, Equatable {
        /// The device's name.
        public var device: String
        /// The driver version it was tuned with.
        public var driver: String
        /// The OpenCL platform.
        public var platform: String
        /// The parameters found.
        public var parameters: KernelParameters
        /// The score of the built-in defaults (geometric mean of GEMM GFLOPS).
        public var defaultScore: Double
        /// The score of `parameters`.
        public var tunedScore: Double
        /// When the tuning ran (ISO 8601).
        public var date: String

        /// Creates an entry.
        public init(device: String, driver: String, platform: String, parameters: KernelParameters,
                    defaultScore: Double, tunedScore: Double, date: String) {
            self.device = device
            self.driver = driver
            self.platform = platform
            self.parameters = parameters
            self.defaultScore = defaultScore
            self.tunedScore = tunedScore
            self.date = date
        }
    }

    /// The file for a device: its name, driver and platform, hashed.
    public func file(for info: DeviceInfo) -> URL {
        let key = [info.platform ?? "", info.name, info.driverVersion].joined(separator: "\u{1}")
        return directory.appendingPathComponent("\(StableHash.hex(key)).json")
    }

    /// The tuned entry for `info`, or `nil` when there is none (or it cannot be read: defaults apply).
    public func entry(for info: DeviceInfo) -> Entry? {
        guard let data = try? Data(contentsOf: file(for: info)),
              let entry = try? JSONDecoder().decode(Entry.self, from: data),
              entry.device == info.name, entry.driver == info.driverVersion,
              (try? entry.parameters.gemm.validate()) != nil,
              (try? entry.parameters.normalization.validate()) != nil,
              (try? entry.parameters.attention.validate()) != nil
        else { return nil }
        return entry
    }

    /// Writes `entry` for `info` (temporary file, then rename); returns the file.
    @discardableResult
    public func save(_ entry: Entry, for info: DeviceInfo) throws -> URL {
        let url = file(for: info)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(entry).write(to: url, options: .atomic)
        } catch {
            throw CortadoError.io("cannot write tuned parameters to \(url.path): \(error.localizedDescription)")
        }
        return url
    }
}
