import CortadoTraining
import Foundation
import Testing

/// The real Fashion-MNIST, loaded once for every test that needs it.
private enum FashionMNIST {
    static let loaded: Result<LoadedData, any Error> = Result { try DataSource.resolve("fashion-mnist").load() }

    static func split() throws -> DatasetSplit { try loaded.get().split }
}

/// Facts about the Debian Fashion-MNIST files computed by Python's gzip module, independently of Cortado:
/// the sum of all training pixels, image 12345's pixels, and the first ten test labels.
private func pythonReference() throws -> (pixelSum: Int, image: [Int], testLabels: [Int]) {
    let script = """
        import gzip
        d = '/usr/share/datasets/fashion-mnist/'
        images = gzip.open(d + 'train-images-idx3-ubyte.gz').read()
        labels = gzip.open(d + 't10k-labels-idx1-ubyte.gz').read()
        print(sum(images[16:]))
        print(' '.join(str(b) for b in images[16 + 12345 * 784:16 + 12346 * 784]))
        print(' '.join(str(b) for b in labels[8:18]))
        """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw CortadoError.io("python3 failed with status \(process.terminationStatus)") }
    let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
    guard lines.count == 3, let sum = Int(lines[0]) else { throw CortadoError.io("unexpected python output") }
    return (sum, lines[1].split(separator: " ").compactMap { Int($0) }, lines[2].split(separator: " ").compactMap { Int($0) })
}

@Suite("Data: Fashion-MNIST (the Debian files)")
struct DataFashionMNISTTests {
    @Test("60000 training and 10000 test images of 1 × 28 × 28, ten classes of 6000 and 1000")
    func shapesAndLabels() throws {
        let split = try FashionMNIST.split()
        #expect(split.train.count == 60_000)
        #expect(split.test.count == 10_000)
        #expect(split.train.sampleShape == [1, 28, 28])
        #expect(split.test.sampleShape == [1, 28, 28])
        #expect(split.train.features.count == 60_000 * 784)
        #expect(split.train.classCount == 10)
        guard case let .classes(trainLabels, _) = split.train.targets, case let .classes(testLabels, _) = split.test.targets else {
            Issue.record("Fashion-MNIST should have class labels")
            return
        }
        let trainCounts = Dictionary(grouping: trainLabels, by: { $0 }).mapValues(\.count)
        let testCounts = Dictionary(grouping: testLabels, by: { $0 }).mapValues(\.count)
        #expect(trainCounts == Dictionary(uniqueKeysWithValues: (0..<10).map { (Int32($0), 6000) }))
        #expect(testCounts == Dictionary(uniqueKeysWithValues: (0..<10).map { (Int32($0), 1000) }))
        #expect(try FashionMNIST.loaded.get().standardization == nil)
    }

    @Test("pixels lie in [0, 1] and match Python's gzip decoding of the same files")
    func pixelsMatchPython() throws {
        let split = try FashionMNIST.split()
        let reference = try pythonReference()
        var sum = 0
        var outside = 0
        for value in split.train.features {
            if !(0...1).contains(value) { outside += 1 }
            sum += Int((value * 255).rounded())
        }
        #expect(outside == 0)
        #expect(sum == reference.pixelSum)
        let image = split.train.features[12_345 * 784..<12_346 * 784]
        #expect(Array(image) == reference.image.map { Float($0) / 255 })
        #expect(split.train.features.contains(1) && split.train.features.contains(0))
        guard case let .classes(testLabels, _) = split.test.targets else { return }
        #expect(testLabels.prefix(10).map(Int.init) == reference.testLabels)
    }
}
