import Foundation

/// Loads a directory in MNIST format: the four IDX files `train-images-idx3-ubyte`,
/// `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each raw or
/// with a `.gz` suffix, as MNIST, Fashion-MNIST and KMNIST ship them.
public enum MNISTFormat {
    /// The file names (without `.gz`) of training images, training labels, test images and test labels.
    public static let fileNames = (
        trainImages: "train-images-idx3-ubyte", trainLabels: "train-labels-idx1-ubyte",
        testImages: "t10k-images-idx3-ubyte", testLabels: "t10k-labels-idx1-ubyte"
    )

    /// Reads the training and test sets from `directory`: images become `[1, rows, columns]`
    /// samples with pixels scaled to `[0, 1]`, labels become classes.
    ///
    /// The class count is `classCount` if given, else the largest training label + 1 (at least 2);
    /// a label outside it, in either set, is an error naming its file. `missingHint` is added to
    /// the message when the directory or a file is missing (e.g. which package installs it).
    public static func load(directory: String, classCount: Int? = nil, missingHint: String? = nil) throws -> DatasetSplit {
        let hint = missingHint.map { "; \($0)" } ?? ""
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError.notFound(
                path: directory,
                expected: "expected a directory in MNIST format holding \(describeFiles())\(hint)")
        }
        let trainImages = try locate(fileNames.trainImages, in: directory, role: "training images", hint: hint)
        let trainLabels = try locate(fileNames.trainLabels, in: directory, role: "training labels", hint: hint)
        let testImages = try locate(fileNames.testImages, in: directory, role: "test images", hint: hint)
        let testLabels = try locate(fileNames.testLabels, in: directory, role: "test labels", hint: hint)

        let train = try readPair(images: trainImages, labels: trainLabels)
        let test = try readPair(images: testImages, labels: testLabels)
        guard train.sampleShape == test.sampleShape else {
            let describe = { (shape: [Int]) in shape.dropFirst().map(String.init).joined(separator: " × ") }
            throw DataError.inconsistent(
                files: [trainImages, testImages],
                problem: "the training images are \(describe(train.sampleShape)) pixels but the test images \(describe(test.sampleShape)); both must have one size")
        }
        if let classCount, classCount < 2 {
            throw DataError.invalidRequest("a classification data set needs at least 2 classes, got \(classCount)")
        }
        let classes = classCount ?? max(Int(train.labels.max() ?? 0) + 1, 2)
        try checkLabels(train.labels, file: trainLabels, classCount: classes, derived: classCount == nil)
        try checkLabels(test.labels, file: testLabels, classCount: classes, derived: classCount == nil)
        return DatasetSplit(
            train: try Dataset(features: train.pixels, sampleShape: train.sampleShape, targets: .classes(labels: train.labels, classCount: classes)),
            test: try Dataset(features: test.pixels, sampleShape: test.sampleShape, targets: .classes(labels: test.labels, classCount: classes)))
    }

    /// `name` or `name.gz` in `directory` (the raw file if both exist), or an error saying what is missing.
    private static func locate(_ name: String, in directory: String, role: String, hint: String) throws -> String {
        for candidate in [name, name + ".gz"] {
            let path = (directory as NSString).appendingPathComponent(candidate)
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw DataError.notFound(
            path: (directory as NSString).appendingPathComponent(name + "[.gz]"),
            expected: "expected the \(role) as \(name) or \(name).gz (IDX format, gzip or raw) in \(directory)\(hint)")
    }

    /// Reads one images file and its labels file and checks that they agree.
    private static func readPair(images: String, labels: String) throws -> (pixels: [Float], sampleShape: [Int], labels: [Int32]) {
        let imageFile = try IDXFile.read(path: images, expecting: .images)
        let labelFile = try IDXFile.read(path: labels, expecting: .labels)
        let dimensions = imageFile.dimensions
        guard dimensions[0] > 0, dimensions[1] > 0, dimensions[2] > 0 else {
            throw DataError.malformed(
                file: images, problem: "holds no pixels: dimensions \(dimensions.map(String.init).joined(separator: " × "))")
        }
        guard labelFile.dimensions[0] == dimensions[0] else {
            throw DataError.inconsistent(
                files: [images, labels],
                problem: "\(dimensions[0]) images but \(labelFile.dimensions[0]) labels; each image needs exactly one label")
        }
        return (scaledPixels(imageFile.rawBytes), [1, dimensions[1], dimensions[2]], labelFile.rawBytes.map { Int32($0) })
    }

    /// Bytes 0…255 as floats 0…1.
    private static func scaledPixels(_ bytes: [UInt8]) -> [Float] {
        let table = (0..<256).map { Float($0) / 255 }
        return [Float](unsafeUninitializedCapacity: bytes.count) { pixels, initialized in
            bytes.withUnsafeBufferPointer { source in
                table.withUnsafeBufferPointer { table in
                    for i in 0..<source.count { pixels[i] = table[Int(source[i])] }
                }
            }
            initialized = bytes.count
        }
    }

    /// Throws if a label is outside `0..<classCount`, naming the file, the label and its position.
    private static func checkLabels(_ labels: [Int32], file: String, classCount: Int, derived: Bool) throws {
        guard let index = labels.firstIndex(where: { Int($0) >= classCount }) else { return }
        let origin = derived ? "the \(classCount) classes the training labels define" : "the \(classCount) classes requested"
        throw DataError.malformed(
            file: file, problem: "label \(labels[index]) at index \(index) is out of range: outside 0..<\(classCount), \(origin)")
    }

    /// The four file names for messages.
    private static func describeFiles() -> String {
        [fileNames.trainImages, fileNames.trainLabels, fileNames.testImages, fileNames.testLabels]
            .map { "\($0)[.gz]" }.joined(separator: ", ")
    }
}
