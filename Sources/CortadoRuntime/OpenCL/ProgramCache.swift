import COpenCL
import Foundation
import Synchronization

/// Where Cortado keeps files it can recreate: `CORTADO_CACHE_DIR`, else `$XDG_CACHE_HOME/cortado`,
/// else `~/.cache/cortado`.
package enum CacheDirectory {
    /// The cache root.
    package static var url: URL {
        let environment = ProcessEnvironment.all()
        if let explicit = environment["CORTADO_CACHE_DIR"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("cortado")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/cortado")
    }
}

/// Time spent turning kernel sources into device programs, split by where they came from.
public struct CompileStatistics: Sendable, Equatable {
    /// Programs compiled from source (first start, or after a source or driver change).
    public var compiledFromSource = 0
    /// Seconds spent compiling from source.
    public var sourceSeconds = 0.0
    /// Programs loaded from the on-disk binary cache.
    public var loadedFromCache = 0
    /// Seconds spent loading cached binaries.
    public var cacheSeconds = 0.0
}

/// Builds each OpenCL program once per process and, when `storesBinaries`, keeps compiled binaries on
/// disk keyed by the platform, device, driver, build options and source, so a second start
/// compiles nothing. (Without it, the driver's own kernel cache serves the second start.)
final class ProgramCache: @unchecked Sendable {
    private let context: cl_context
    private let deviceID: cl_device_id
    private let info: DeviceInfo
    private let directory: URL
    private let storesBinaries: Bool
    /// What a binary export goes through (on PoCL; see ``ProgramExportGate``).
    private let exportGate: ProgramExportGate?
    private let programs = Locked<[String: cl_program]>([:])
    private let stats = Mutex(CompileStatistics())

    private let device: Device

    init(
        context: cl_context, deviceID: cl_device_id, device: Device, info: DeviceInfo, storesBinaries: Bool,
        exportGate: ProgramExportGate? = nil
    ) {
        self.exportGate = exportGate
        self.device = device
        self.context = context
        self.deviceID = deviceID
        self.info = info
        self.storesBinaries = storesBinaries
        self.directory = CacheDirectory.url.appendingPathComponent("kernels")
    }

    deinit {
        programs.withLock { $0.values.forEach { clReleaseProgram($0) } }
    }

    var statistics: CompileStatistics { stats.withLock { $0 } }

    /// The built program for `Kernels/<family>.cl` with `options` (`-D` definitions).
    func program(family: String, options: String) throws -> cl_program {
        let key = family + " " + options
        if let program = programs.withLock({ $0[key] }) { return program }
        guard let source = EmbeddedKernels.sources[family], let prelude = EmbeddedKernels.sources["storage"] else {
            throw CortadoError.invalidArgument("no embedded kernel source named '\(family)'")
        }
        return try program(family: family, source: prelude + "\n" + source, options: options, key: key)
    }

    /// Builds (or loads from the disk cache) `source` under the name `family`, memoised by `key`.
    func program(family: String, source: String, options: String, key: String) throws -> cl_program {
        // The entry format is part of the key: entries of older builds (raw binaries) are never read.
        let identity = [ProgramBinaryFile.formatName, info.platform ?? "", info.platformVersion ?? "", info.name,
                        info.deviceVersion ?? "", info.driverVersion, options, source].joined(separator: "\u{1}")
        let file = directory.appendingPathComponent("\(family)-\(StableHash.hex(identity)).bin")

        let started = DispatchTime.now()
        let program: cl_program
        if storesBinaries, let cached = loadBinary(file, options: options) {
            program = cached
            let seconds = Self.seconds(since: started)
            stats.withLock { $0.loadedFromCache += 1; $0.cacheSeconds += seconds }
        } else {
            program = try buildFromSource(source, family: family, options: options)
            let seconds = Self.seconds(since: started)
            stats.withLock { $0.compiledFromSource += 1; $0.sourceSeconds += seconds }
            if storesBinaries { storeBinary(of: program, at: file) }
        }
        return programs.withLock { programs in
            if let existing = programs[key] {
                clReleaseProgram(program)
                return existing
            }
            programs[key] = program
            return program
        }
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    private func buildFromSource(_ source: String, family: String, options: String) throws -> cl_program {
        var status: cl_int = 0
        let program = source.withCString { text -> cl_program? in
            var pointer: UnsafePointer<CChar>? = text
            return clCreateProgramWithSource(context, 1, &pointer, nil, &status)
        }
        try clCheck(status, OpenCLFailure("clCreateProgramWithSource", kernel: family, device: self.device, info: info))
        guard let program else {
            throw CortadoError.openCL(OpenCLFailure(
                "clCreateProgramWithSource", kernel: family, device: self.device, info: info, code: CL_INVALID_PROGRAM))
        }
        var device: cl_device_id? = deviceID
        status = CLFaultInjection.intercept("clBuildProgram", family) { clBuildProgram(program, 1, &device, options, nil, nil) }
        if status != CL_SUCCESS {
            let log = buildLog(program)
            clReleaseProgram(program)
            throw CortadoError.kernelBuild(
                program: family, device: "\(self.device.id) (\(info.name), driver \(info.driverVersion))",
                log: log.isEmpty ? "\(openCLErrorName(status)) (\(status)), no build log" : log)
        }
        return program
    }

    private func buildLog(_ program: cl_program) -> String {
        clInfoString { clGetProgramBuildInfo(program, deviceID, cl_program_build_info(CL_PROGRAM_BUILD_LOG), $0, $1, $2) }
    }

    /// A program from a cached binary, or `nil` when there is none or the driver rejects it. An
    /// entry whose checksum does not match (a truncated or damaged file) never reaches the driver:
    /// it is removed with a note, and the program is built again from source.
    private func loadBinary(_ file: URL, options: String) -> cl_program? {
        guard let stored = FileManager.default.contents(atPath: file.path), !stored.isEmpty else { return nil }
        guard let data = ProgramBinaryFile.unwrap(stored) else {
            unlink(file.path)
            RuntimeNotes.emit("kernel cache entry \(file.path) is damaged (its length or checksum does not match); removed it and rebuilt the program")
            return nil
        }
        var status: cl_int = 0
        var binaryStatus: cl_int = 0
        var device: cl_device_id? = deviceID
        let program: cl_program? = data.withUnsafeBytes { bytes in
            var length = bytes.count
            var pointer: UnsafePointer<UInt8>? = bytes.bindMemory(to: UInt8.self).baseAddress
            return clCreateProgramWithBinary(context, 1, &device, &length, &pointer, &binaryStatus, &status)
        }
        guard status == CL_SUCCESS, binaryStatus == CL_SUCCESS, let program else { return nil }
        guard clBuildProgram(program, 1, &device, options, nil, nil) == CL_SUCCESS else {
            clReleaseProgram(program)
            return nil
        }
        return program
    }

    /// Writes the program's binary to `file` (temporary file, then rename), ignoring failures: the
    /// cache only saves time.
    private func storeBinary(of program: cl_program, at file: URL) {
        guard let bytes = exportGate.map({ $0.exporting { Self.binary(of: program) } }) ?? Self.binary(of: program)
        else { return }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        ProgramBinaryFile.removeStaleTemporaries(in: directory)
        // Unique per writer: two threads of one process may store the same program at once.
        let temporary = file.appendingPathExtension("tmp-\(getpid())-\(UUID().uuidString)")
        guard (try? ProgramBinaryFile.wrap(bytes).write(to: temporary)) != nil else { return }
        if rename(temporary.path, file.path) != 0 { try? FileManager.default.removeItem(at: temporary) }
    }

    /// The program's binary for its one device, or `nil` when the driver gives none.
    private static func binary(of program: cl_program) -> [UInt8]? {
        var size = 0
        guard clGetProgramInfo(program, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil)
            == CL_SUCCESS, size > 0
        else { return nil }
        var bytes = [UInt8](repeating: 0, count: size)
        let status = bytes.withUnsafeMutableBufferPointer { buffer -> cl_int in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return clGetProgramInfo(
                program, cl_program_info(CL_PROGRAM_BINARIES), MemoryLayout<UnsafeMutablePointer<UInt8>?>.size,
                &pointer, nil)
        }
        return status == CL_SUCCESS ? bytes : nil
    }
}

/// The on-disk form of a cached program binary: a magic line, the binary's length and a 64-bit
/// FNV-1a checksum (each 8 bytes, little-endian), then the binary. A file cut short or changed
/// fails ``unwrap(_:)``, so the driver never sees a damaged binary.
enum ProgramBinaryFile {
    /// The first 8 bytes of every entry.
    static let magic = Array("CLBIN01\n".utf8)
    /// The format's name, mixed into every entry's key.
    static let formatName = "checksummed-1"

    /// 64-bit FNV-1a over `bytes`.
    static func checksum<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }

    /// The entry for `binary`.
    static func wrap(_ binary: [UInt8]) -> Data {
        var data = Data(magic)
        withUnsafeBytes(of: UInt64(binary.count).littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: checksum(binary).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: binary)
        return data
    }

    /// The binary inside `entry`, or `nil` when the magic, length or checksum does not match.
    static func unwrap(_ entry: Data) -> Data? {
        let bytes = [UInt8](entry)
        guard bytes.count > 24, Array(bytes[0..<8]) == magic else { return nil }
        func word(at offset: Int) -> UInt64 {
            bytes[offset..<(offset + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
        guard word(at: 8) == UInt64(bytes.count - 24) else { return nil }
        let binary = bytes[24...]
        guard checksum(binary) == word(at: 16) else { return nil }
        return Data(binary)
    }

    /// Removes `*.tmp-PID` files in `directory` whose writing process is gone (killed mid-write).
    static func removeStaleTemporaries(in directory: URL) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names {
            // `<entry>.tmp-<pid>` or `<entry>.tmp-<pid>-<writer>`.
            guard let range = name.range(of: ".tmp-", options: .backwards),
                  let pid = name[range.upperBound...].split(separator: "-").first.flatMap({ Int32($0) }),
                  pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            unlink(directory.appendingPathComponent(name).path)
        }
    }
}

/// A 128-bit FNV-1a hash (two 64-bit lanes) used as a cache key; stable across runs and machines.
package enum StableHash {
    package static func hex(_ text: String) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x6c62_272e_07bb_0142
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            b = (b ^ UInt64(byte ^ 0x5a)) &* 0x0000_0100_0000_01b3
        }
        return String(format: "%016llx%016llx", a, b)
    }
}
