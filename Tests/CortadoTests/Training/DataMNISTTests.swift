import CortadoTraining
import Foundation
import Testing

@Suite("Data: MNIST-format directories")
struct DataMNISTTests {
    @Test("a gzip directory and a raw directory load the same data set")
    func gzipAndRawDirectoriesAgree() throws {
        let raw = try TemporaryDirectory()
        let gzip = try TemporaryDirectory()
        try writeMNISTDirectory(raw, gzip: false)
        try writeMNISTDirectory(gzip, gzip: true)
        let fromRaw = try MNISTFormat.load(directory: raw.path)
        let fromGzip = try MNISTFormat.load(directory: gzip.path)
        #expect(fromRaw.train == fromGzip.train)
        #expect(fromRaw.test == fromGzip.test)

        #expect(fromRaw.train.count == 5)
        #expect(fromRaw.test.count == 3)
        #expect(fromRaw.train.sampleShape == [1, 3, 2])
        #expect(fromRaw.train.targets == .classes(labels: [0, 1, 2, 1, 0], classCount: 3))
        #expect(fromRaw.test.targets == .classes(labels: [2, 0, 1], classCount: 3))
        // Pixel p of image i was written as (7i + p) % 256; it must come back divided by 255.
        let expected = (0..<30).map { (p: Int) -> Float in
            let byte: Int = (7 * (p / 6) + p % 6) % 256
            return Float(byte) / 255
        }
        #expect(fromRaw.train.features == expected)
    }

    @Test("the class count is the largest label + 1, at least 2, unless given")
    func classCount() throws {
        let directory = try TemporaryDirectory()
        try writeMNISTDirectory(directory, trainLabels: [0, 0, 0], testLabels: [0])
        #expect(try MNISTFormat.load(directory: directory.path).train.classCount == 2)
        #expect(try MNISTFormat.load(directory: directory.path, classCount: 10).test.classCount == 10)
    }

    @Test("a missing directory names the path and the files expected there")
    func missingDirectory() throws {
        let directory = try TemporaryDirectory()
        let missing = directory.file("no-such-dir")
        expectDataError(containing: [missing, "not found", "MNIST format", "train-images-idx3-ubyte[.gz]", "t10k-labels-idx1-ubyte[.gz]"]) {
            _ = try MNISTFormat.load(directory: missing)
        }
        let file = try directory.write("a-file", text: "x")
        expectDataError(containing: [file, "expected a directory"]) { _ = try MNISTFormat.load(directory: file) }
    }

    @Test("the built-in name's missing-directory error says which package to install")
    func builtInHint() throws {
        // The built-in source, pointed at a directory that is certainly missing, keeps its hint.
        let directory = try TemporaryDirectory()
        let missing = directory.file("fashion-mnist")
        expectDataError(containing: [missing, "not found", "MNIST format", "install the Debian package dataset-fashion-mnist", "tools/setup"]) {
            _ = try DataSource.mnistDirectory(path: missing, builtInName: "fashion-mnist").load()
        }
        try FileManager.default.createDirectory(atPath: missing, withIntermediateDirectories: false)
        expectDataError(containing: [missing + "/train-images-idx3-ubyte[.gz]", "not found", "dataset-fashion-mnist"]) {
            _ = try DataSource.mnistDirectory(path: missing, builtInName: "fashion-mnist").load()
        }
        #expect(try DataSource.resolve("fashion-mnist") == .mnistDirectory(path: "/usr/share/datasets/fashion-mnist", builtInName: "fashion-mnist"))
    }

    @Test("a missing file names its path and the two names it may have")
    func missingFile() throws {
        let directory = try TemporaryDirectory()
        try writeMNISTDirectory(directory)
        try FileManager.default.removeItem(atPath: directory.file("t10k-labels-idx1-ubyte"))
        expectDataError(containing: [directory.file("t10k-labels-idx1-ubyte[.gz]"), "not found", "test labels", "t10k-labels-idx1-ubyte.gz"]) {
            _ = try MNISTFormat.load(directory: directory.path)
        }
    }

    @Test("a labels file in place of an images file is a wrong magic number")
    func wrongMagic() throws {
        let directory = try TemporaryDirectory()
        try writeMNISTDirectory(directory)
        try directory.write("train-images-idx3-ubyte", IDXBytes.labels([1, 2, 3, 4, 5]))
        expectDataError(containing: [directory.file("train-images-idx3-ubyte"), "wrong IDX magic 0x00000801", "expected 0x00000803 for images"]) {
            _ = try MNISTFormat.load(directory: directory.path)
        }
    }

    @Test("truncated images and truncated labels name the file and the sizes")
    func truncated() throws {
        let directory = try TemporaryDirectory()
        try writeMNISTDirectory(directory, gzip: true)
        try directory.write("train-images-idx3-ubyte.gz", Array(IDXBytes.images(count: 5).dropLast(7)))
        expectDataError(containing: [directory.file("train-images-idx3-ubyte.gz"), "truncated: expected 30 bytes of pixels", "found 23"]) {
            _ = try MNISTFormat.load(directory: directory.path)
        }
        try writeMNISTDirectory(directory, gzip: true)
        try directory.write("t10k-labels-idx1-ubyte.gz", Array(IDXBytes.labels([2, 0, 1]).dropLast(2)))
        expectDataError(containing: [directory.file("t10k-labels-idx1-ubyte.gz"), "truncated: expected 3 bytes of labels", "found 1"]) {
            _ = try MNISTFormat.load(directory: directory.path)
        }
    }

    @Test("different image and label counts name both files and both counts")
    func countMismatch() throws {
        let directory = try TemporaryDirectory()
        try writeMNISTDirectory(directory)
        try directory.write("train-labels-idx1-ubyte", IDXBytes.labels([0, 1, 2, 1]))
        expectDataError(
            containing: [directory.file("train-images-idx3-ubyte"), directory.file("train-labels-idx1-ubyte"), "5 images but 4 labels"]
        ) {
            _ = try MNISTFormat.load(directory: directory.path)
        }
    }

    @Test("a label outside the classes is out of range, naming its file")
    func labelOutOfRange() throws {
        let directory = try TemporaryDirectory()
        try writeMNISTDirectory(directory, trainLabels: [0, 1, 2, 1, 0], testLabels: [2, 7, 1])
        expectDataError(containing: [directory.file("t10k-labels-idx1-ubyte"), "label 7 at index 1 is out of range", "0..<3"]) {
            _ = try MNISTFormat.load(directory: directory.path)
        }
        try writeMNISTDirectory(directory)
        expectDataError(containing: [directory.file("train-labels-idx1-ubyte"), "label 2 at index 2 is out of range", "0..<2"]) {
            _ = try MNISTFormat.load(directory: directory.path, classCount: 2)
        }
    }

    @Test("--data strings resolve to built-in, directory and CSV sources")
    func resolveDataStrings() throws {
        let directory = try TemporaryDirectory()
        #expect(try DataSource.resolve(directory.path) == .mnistDirectory(path: directory.path, builtInName: nil))
        #expect(try DataSource.resolve("house.csv") == .csv(path: "house.csv"))
        #expect(try DataSource.resolve("x/house.TSV") == .csv(path: "x/house.TSV"))
        expectDataError(containing: ["no-such-thing", "built-in name (fashion-mnist)"]) { _ = try DataSource.resolve("no-such-thing") }
        let text = try directory.write("notes.txt", text: "hello")
        expectDataError(containing: [text, "must end in .csv or .tsv"]) { _ = try DataSource.resolve(text) }
        expectDataError(containing: ["--target", "CSV data"]) {
            _ = try DataSource.mnistDirectory(path: directory.path, builtInName: nil).load(target: "label")
        }
    }
}
