import CortadoTraining
import Foundation
import Testing

/// `cortado predict` streams its input: memory does not grow with the number of inputs.
@Suite("Hostile input: predict memory")
struct HostilePredictMemoryTests {
    /// Runs `cortado arguments…` under Python and returns its exit status and peak resident memory.
    func peakMemory(_ arguments: [String]) throws -> (status: Int, bytes: Int) {
        let script = """
            import resource, subprocess, sys
            result = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            print(result.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, Cortado.executable.path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let fields = output.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(fields.count == 2, "unexpected output \(output)")
        return (fields[0], fields[1] * 1024)
    }

    @Test("10,000 28×28 images through a CNN stay far below what holding them all would take")
    func imagesStream() throws {
        let data = try TemporaryDirectory()
        try data.write("train-images-idx3-ubyte", IDXBytes.images(count: 8, rows: 28, columns: 28))
        try data.write("train-labels-idx1-ubyte", IDXBytes.labels([0, 1, 2, 0, 1, 2, 0, 1]))
        try data.write("t10k-images-idx3-ubyte", IDXBytes.images(count: 3, rows: 28, columns: 28))
        try data.write("t10k-labels-idx1-ubyte", IDXBytes.labels([0, 1, 2]))
        var options = TrainingOptions()
        options.model = .cnn
        options.data = data.path
        options.epochs = 1
        options.save = data.file("cnn.safetensors")
        _ = try TrainingRun(options: options, device: .cpu).run()
        let input = try data.write("many-idx3-ubyte", IDXBytes.images(count: 10_000, rows: 28, columns: 28))
        // All at once, the first convolution's output alone is 10,000 × 32 × 26 × 26 floats (865 MB).
        let (status, bytes) = try peakMemory(["predict", "--checkpoint", data.file("cnn.safetensors"), "--input", input, "--device", "cpu"])
        #expect(status == 0)
        #expect(bytes < 600 << 20, "peak memory \(bytes >> 20) MiB")
    }
}
