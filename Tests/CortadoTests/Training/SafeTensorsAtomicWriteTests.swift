import CortadoTraining
import Foundation
import Testing

/// Whether the tests run as root, for whom permission bits do not stop writes.
private let runningAsRoot = getuid() == 0

/// Something that fails on purpose in the middle of a write.
private struct InjectedFailure: Error, CustomStringConvertible {
    var description: String { "the device went away" }
}

@Suite("SafeTensors writes are atomic and checked up front")
struct SafeTensorsAtomicWriteTests {
    @Test("writing over a file replaces it only once the new one is complete")
    func replacesAtTheEnd() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        try SafeTensors.write([try SafeTensor(name: "old", values: [1, 2, 3], shape: [3])], metadata: ["epoch": "1"], to: url)
        let old = try Data(contentsOf: url)

        var seenDuringWrite: (destination: Data, listing: [String])?
        let watcher = PendingSafeTensor(name: "late", dtype: .float32, shape: [1]) {
            seenDuringWrite = (try Data(contentsOf: url), try scratch.listing())
            return try SafeTensor(name: "late", values: [9], shape: [1]).bytes
        }
        try SafeTensors.write(pending: [PendingSafeTensor(try SafeTensor(name: "new", values: [4, 5], shape: [2])), watcher],
                              metadata: ["epoch": "2"], to: url)

        let during = try #require(seenDuringWrite)
        #expect(during.destination == old, "the destination changed before the write finished")
        #expect(during.listing.count == 2 && during.listing.contains { $0.hasPrefix(".model.safetensors.tmp-") },
                "the write goes to a hidden temporary file beside the destination: \(during.listing)")
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.metadata == ["epoch": "2"])
        #expect(try file.floats("new") == [4, 5])
        #expect(try file.floats("late") == [9])
        #expect(try scratch.listing() == ["model.safetensors"])
    }

    @Test("a tensor that fails mid-write leaves the old file intact and no temporary file")
    func failureMidWrite() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        try SafeTensors.write([try SafeTensor(name: "old", values: [1, 2, 3], shape: [3])], to: url)
        let old = try Data(contentsOf: url)

        let good = PendingSafeTensor(try SafeTensor(name: "good", values: Fixtures.values(1000), shape: [10, 100]))
        let failing = PendingSafeTensor(name: "fc.weight", dtype: .float32, shape: [4]) { throw InjectedFailure() }
        #expect(throws: CheckpointError(url, "cannot write tensor 'fc.weight': getting its values failed: the device went away")) {
            try SafeTensors.write(pending: [good, failing], to: url)
        }
        #expect(try Data(contentsOf: url) == old)
        #expect(try scratch.listing() == ["model.safetensors"])

        let short = PendingSafeTensor(name: "fc.bias", dtype: .int32, shape: [4]) { [1, 2, 3] }
        #expect(throws: CheckpointError(url, "cannot write tensor 'fc.bias': shape [4] of I32 needs 16 bytes but 3 were given")) {
            try SafeTensors.write(pending: [good, short], to: url)
        }
        #expect(try Data(contentsOf: url) == old)
        #expect(try scratch.listing() == ["model.safetensors"])
    }

    @Test("a missing directory fails at once, in checkWritable and in write, creating nothing")
    func missingDirectory() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.url.appendingPathComponent("runs/42/model.safetensors")
        let directory = url.deletingLastPathComponent().path
        for attempt in [{ try SafeTensors.checkWritable(url) },
                        { try SafeTensors.write([try SafeTensor(name: "w", values: [1], shape: [1])], to: url) }] {
            do {
                try attempt()
                Issue.record("writing into a missing directory succeeded")
            } catch let error as CheckpointError {
                expectMessage(error, names: url, mentioning: ["cannot write: directory \(directory) does not exist"])
            }
        }
        #expect(try scratch.listing().isEmpty)
    }

    @Test("checkWritable rejects a directory as the destination and a file as the directory")
    func wrongKinds() throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.fileURL("checkpoints")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        #expect(throws: CheckpointError(directory, "cannot write: it is a directory")) {
            try SafeTensors.checkWritable(directory)
        }
        let plain = scratch.fileURL("notes.txt")
        try Data("x".utf8).write(to: plain)
        let inside = plain.appendingPathComponent("model.safetensors")
        #expect(throws: CheckpointError(inside, "cannot write: \(plain.path) is not a directory")) {
            try SafeTensors.checkWritable(inside)
        }
    }

    @Test("checkWritable leaves an existing file untouched and nothing behind")
    func checkLeavesNoTrace() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        try SafeTensors.checkWritable(url)
        #expect(try scratch.listing().isEmpty)
        try Data("previous checkpoint".utf8).write(to: url)
        try SafeTensors.checkWritable(url)
        #expect(try Data(contentsOf: url) == Data("previous checkpoint".utf8))
        #expect(try scratch.listing() == ["model.safetensors"])
    }

    @Test("in a read-only directory checkWritable agrees with what a write does")
    func readOnlyDirectoryIsConsistent() throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.fileURL("locked")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        let url = directory.appendingPathComponent("model.safetensors")
        chmod(directory.path, 0o555)
        defer { chmod(directory.path, 0o755) }
        let checkPassed = (try? SafeTensors.checkWritable(url)) != nil
        let writePassed = (try? SafeTensors.write([try SafeTensor(name: "w", values: [1], shape: [1])], to: url)) != nil
        #expect(checkPassed == writePassed)
        // Root ignores permission bits, so there both succeed; the next test checks the refusal.
        #expect(checkPassed == runningAsRoot)
    }

    @Test("checkWritable refuses a read-only directory, naming it",
          .enabled(if: !runningAsRoot, "running as root, which permission bits do not stop"))
    func readOnlyDirectory() throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.fileURL("locked")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        let url = directory.appendingPathComponent("model.safetensors")
        chmod(directory.path, 0o555)
        defer { chmod(directory.path, 0o755) }
        do {
            try SafeTensors.checkWritable(url)
            Issue.record("checkWritable passed in a read-only directory")
        } catch let error as CheckpointError {
            expectMessage(error, names: url, mentioning: ["permission denied in directory \(directory.path)"])
        }
    }
}
