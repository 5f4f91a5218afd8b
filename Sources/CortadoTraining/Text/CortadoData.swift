import Foundation

/// Where Cortado keeps data it downloads once and reads many times, such as the text corpora that
/// `tools/setup` fetches.
public enum CortadoData {
    /// The data directory for this process: `CORTADO_DATA_DIR` when set, else `$XDG_DATA_HOME/cortado`,
    /// else `~/.local/share/cortado`.
    public static var directory: String {
        directory(environment: ProcessEnvironment.all())
    }

    /// The data directory that `environment` picks. Empty variables count as unset, and a relative
    /// `XDG_DATA_HOME` is ignored, as the XDG Base Directory specification asks; `tools/setup`
    /// follows the same rules.
    public static func directory(environment: [String: String]) -> String {
        if let explicit = environment["CORTADO_DATA_DIR"], !explicit.isEmpty {
            return explicit
        }
        if let dataHome = environment["XDG_DATA_HOME"], dataHome.hasPrefix("/") {
            return (dataHome as NSString).appendingPathComponent("cortado")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".local/share/cortado")
    }
}
