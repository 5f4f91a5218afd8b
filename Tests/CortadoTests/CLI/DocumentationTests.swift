import Foundation
import Testing

/// The manual stays true: the generated CLI reference matches the built binary's help, the README
/// stays a short manual, and every relative link in it and in docs/ points at a file that exists.
@Suite("documentation")
struct DocumentationTests {
    /// The repository's root (three folders above this file).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test("docs/cli.md is what tools/cli-reference generates from the built cortado")
    func cliReferenceIsCurrent() throws {
        let script = Self.root.appendingPathComponent("tools/cli-reference").path
        let output = try runPython(
            try String(contentsOfFile: script, encoding: .utf8),
            arguments: ["--check", "--binary", Cortado.executable.path, "--output", Self.root.appendingPathComponent("docs/cli.md").path])
        #expect(output.contains("is up to date"), "\(output)")
    }

    @Test("the README is a manual of at most 250 lines that starts with the two commands")
    func readmeIsShort() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count <= 250, "README.md has \(lines.count) lines")
        let firstBlock = readme.components(separatedBy: "```sh\n").dropFirst().first?.components(separatedBy: "```").first ?? ""
        let commands = firstBlock.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" }
        #expect(commands == ["tools/setup", "swift"], "the README's first commands are \(commands)")
    }

    @Test("every relative link of the README and docs/ names a file that exists")
    func linksResolve() throws {
        let docs = Self.root.appendingPathComponent("docs")
        let files = [Self.root.appendingPathComponent("README.md")]
            + (try FileManager.default.contentsOfDirectory(at: docs, includingPropertiesForKeys: nil)).filter { $0.pathExtension == "md" }
        let link = try Regex(#"\]\(([^)#]*)(#[^)]*)?\)"#)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: link) {
                guard let path = match.output[1].substring.map(String.init), !path.isEmpty, !path.contains("://") else { continue }
                let target = file.deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL
                #expect(FileManager.default.fileExists(atPath: target.path), "\(file.lastPathComponent) links to \(path), which does not exist")
            }
        }
    }
}
