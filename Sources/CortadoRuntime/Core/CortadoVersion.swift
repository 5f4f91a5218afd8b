/// Cortado's version, as `cortado --version` prints it.
public enum CortadoVersion {
    /// The release: the major and minor numbers change with the file formats and the library's API.
    public static let string = "0.4.0"
}
