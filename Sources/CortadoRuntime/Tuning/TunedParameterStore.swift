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
        let environment = ProcessEnvironment.all()
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
        try? load(for: info)?.get()
    }

    /// The largest tuned-parameter file read: 1 MiB (a real one has about 1 KiB).
    public static let maximumFileSize = 1 << 20

    /// The tuned entry for `info`: `nil` when there is no file, a failure naming the file and the
    /// problem when it exists but is unreadable, not a table, for another device or driver, or holds
    /// a value ``KernelParameters/validate()`` refuses (the defaults then apply).
    public func load(for info: DeviceInfo) -> Result<Entry, CortadoError>? {
        let url = file(for: info)
        var status = stat()
        guard stat(url.path, &status) == 0 else { return nil }
        func failure(_ problem: String) -> Result<Entry, CortadoError> {
            .failure(CortadoError.io("\(url.path): \(problem); using the built-in kernel parameters (run `cortado tune` again)"))
        }
        guard status.st_mode & S_IFMT == S_IFREG else { return failure("not a regular file") }
        guard Int(status.st_size) <= Self.maximumFileSize else { return failure("larger than \(Self.maximumFileSize) bytes") }
        guard let data = FileManager.default.contents(atPath: url.path) else { return failure("cannot be read") }
        let entry: Entry
        do {
            entry = try JSONDecoder().decode(Entry.self, from: data)
        } catch {
            return failure("not a table of tuned parameters")
        }
        guard entry.device == info.name, entry.driver == info.driverVersion else {
            return failure("tuned for \(entry.device) with driver \(entry.driver), not this device")
        }
        do {
            try entry.parameters.validate()
        } catch let error as CortadoError {
            return failure("invalid value: \(error)")
        } catch {
            return failure("invalid value: \(error)")
        }
        guard entry.defaultScore.isFinite, entry.tunedScore.isFinite else { return failure("scores are not finite numbers") }
        return .success(entry)
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
