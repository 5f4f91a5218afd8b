import CortadoTraining
import Foundation
import Testing

/// What `--save` (and every checkpoint write) may and may not replace.
@Suite("Hostile input: where saves go")
struct HostileSaveTests {
    static let tensors = [try! SafeTensor(name: "w", values: [1, 2, 3], shape: [3])]

    @Test("saving through a symlink writes the link's target and keeps the link")
    func symlink() throws {
        let scratch = try TemporaryDirectory()
        let target = scratch.fileURL("real.safetensors"), link = scratch.fileURL("link.safetensors")
        try SafeTensors.write(Self.tensors, to: target)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "real.safetensors")
        try SafeTensors.write([try SafeTensor(name: "w", values: [4, 5, 6], shape: [3])], to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "real.safetensors")
        #expect(try SafeTensorsFile(contentsOf: target).floats("w") == [4, 5, 6])
        // A dangling link creates its target.
        let dangling = scratch.fileURL("dangling.safetensors")
        try FileManager.default.createSymbolicLink(atPath: dangling.path, withDestinationPath: "new.safetensors")
        try SafeTensors.write(Self.tensors, to: dangling)
        #expect(try SafeTensorsFile(contentsOf: scratch.fileURL("new.safetensors")).floats("w") == [1, 2, 3])
        #expect(try scratch.listing() == ["dangling.safetensors", "link.safetensors", "new.safetensors", "real.safetensors"])
    }

    @Test("saving over a file keeps its permission bits")
    func keepsMode() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        try SafeTensors.write(Self.tensors, to: url)
        chmod(url.path, 0o600)
        try SafeTensors.write(Self.tensors, to: url)
        var info = stat()
        stat(url.path, &info)
        #expect(info.st_mode & 0o777 == 0o600)
        chmod(url.path, 0o640)
        try SafeTensors.write(Self.tensors, to: url)
        stat(url.path, &info)
        #expect(info.st_mode & 0o777 == 0o640)
    }

    @Test("a device node, a FIFO and a directory are refused before training, untouched")
    func refusesSpecialFiles() throws {
        let scratch = try TemporaryDirectory()
        let fifo = scratch.file("fifo")
        #expect(mkfifo(fifo, 0o644) == 0)
        for (path, fragment) in [("/dev/null", "it is a device"), (fifo, "not a regular file"), (scratch.path, "it is a directory")] {
            expectError(mentioning: [path, fragment]) { try SafeTensors.checkWritable(URL(fileURLWithPath: path)) }
            expectError(mentioning: [path, fragment]) { try SafeTensors.write(Self.tensors, to: URL(fileURLWithPath: path)) }
        }
        var info = stat()
        #expect(stat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR, "/dev/null was replaced")
        let data = try TemporaryDirectory()
        try writeMNISTDirectory(data)
        let result = try Cortado.run(["train", "--data", data.path, "--model", "mlp", "--epochs", "1", "--device", "cpu", "--save", "/dev/null"])
        expectFailure(result, mentioning: ["/dev/null", "device"])
        #expect(!result.stdout.contains("epoch"), "it trained before refusing the save path")
    }

    @Test("--save onto the run's own input files is refused")
    func refusesOwnInput() throws {
        let data = try TemporaryDirectory()
        try writeMNISTDirectory(data)
        let images = data.file("train-images-idx3-ubyte")
        let before = try Data(contentsOf: URL(fileURLWithPath: images))
        let result = try Cortado.run(["train", "--data", data.path, "--model", "mlp", "--epochs", "1", "--device", "cpu", "--save", images])
        expectFailure(result, mentioning: ["--save", images, "the run's own input"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: images)) == before)
        // A CSV file given as the data, through another spelling of its path.
        let csv = try data.write("table.csv", text: "x,y\n1,2\n3,4\n5,6\n7,8\n9,10\n")
        let other = data.path + "/./table.csv"
        expectFailure(try Cortado.run(["train", "--data", csv, "--target", "y", "--model", "linear", "--epochs", "1", "--device", "cpu",
                                       "--save", other]), mentioning: ["the run's own input"])
        // Another file in the data directory is fine.
        var options = TrainingOptions()
        options.data = data.path
        options.save = data.file("model.safetensors")
        try options.validate()
    }

    @Test("a save removes the temporary files a killed save left beside the destination")
    func removesStaleTemporaries() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        // A process that no longer runs (pid 999999 is above Linux's default pid_max), an old
        // UUID-named file more than ten minutes old, and a live process's file (this one's parent).
        let dead = scratch.file(".model.safetensors.tmp-999999-ABC")
        let old = scratch.file(".model.safetensors.tmp-5F1C0C2E-0000-0000-0000-000000000000")
        let live = scratch.file(".model.safetensors.tmp-\(getppid())-DEF")
        for path in [dead, old, live] { FileManager.default.createFile(atPath: path, contents: Data(count: 1000)) }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: old)
        try SafeTensors.write(Self.tensors, to: url)
        #expect(try scratch.listing() == [(live as NSString).lastPathComponent, "model.safetensors"])
    }
}
