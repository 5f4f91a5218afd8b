import Foundation
import CortadoRuntime
import Testing

/// The commands the README and docs/commands.md show stay valid: every `cortado SUBCOMMAND --flag`
/// written there names a subcommand and flags that the built binary's help lists.
@Suite("manual commands")
struct ManualCommandsTests {
    @Test("every cortado command in the README and docs/commands.md uses flags that exist")
    func flagsExist() throws {
        var helps: [String: String] = [:]
        var checked = 0
        for name in ["README.md", "docs/commands.md"] {
            let text = try String(contentsOf: DocumentationTests.root.appendingPathComponent(name), encoding: .utf8)
            // Lines of shell blocks (with their continuation lines joined) that run cortado.
            let blocks = text.components(separatedBy: "```sh\n").dropFirst().compactMap { $0.components(separatedBy: "```").first }
            let lines = blocks.flatMap { $0.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n") }
            for line in lines {
                let words = line.split(separator: "#", maxSplits: 1).first.map { $0.split(separator: " ").map(String.init) } ?? []
                guard let start = words.firstIndex(where: { $0 == "cortado" || $0.hasSuffix("/cortado") }), start + 1 < words.count else { continue }
                var command = [words[start + 1]]
                if command == ["bench"] {  // suite is bench's default subcommand
                    command.append(start + 2 < words.count && ["gemm", "startup", "suite"].contains(words[start + 2]) ? words[start + 2] : "suite")
                }
                let key = command.joined(separator: " ")
                if helps[key] == nil {
                    let result = try Cortado.run(["help"] + command)
                    #expect(result.status == 0, "\(name): `cortado \(key)` is not a command: \(result.stderr)")
                    helps[key] = result.stdout
                }
                for flag in words[(start + 1)...] where flag.hasPrefix("--") {
                    let bare = String(flag.split(separator: "=").first ?? "")
                    #expect(helps[key]?.contains(bare) == true, "\(name): `cortado \(key)` has no flag \(bare): \(line)")
                    checked += 1
                }
            }
        }
        #expect(checked > 40, "only \(checked) flags found: the parser of the manual's commands broke")
    }

    @Test("cortado --version prints the version")
    func version() throws {
        let result = try Cortado.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("cortado \(CortadoVersion.string)"), "\(result.stdout)")
    }
}
