import Cortado
import CortadoTraining
import Foundation
import Testing

/// Damaged or contradictory files: each is refused with a message naming the file and the field,
/// never accepted into NaN or plausible-looking wrong output.
@Suite("Hostile input: corrupt files")
struct HostileFilesTests {
    /// Two float32 tensors, `a` [2] then `b` [2], as the reference writer lays them out.
    static let twoTensors = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#

    @Test("safetensors: a header length one or two bytes short, trailing bytes and gaps are refused (the data must be fully indexed)")
    func notFullyIndexed() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        let data = (0..<16).map { UInt8($0) }
        let good = handMadeSafeTensors(header: Self.twoTensors, data: data)
        try Data(good).write(to: url)
        #expect(try SafeTensorsFile(contentsOf: url).tensorNames == ["a", "b"])
        let declared = Int(good[0])
        for short in 1...2 {
            // The header is padded with spaces: a length a byte or two short still parses as JSON,
            // but the data then starts early and every value would shift.
            var bytes = good
            bytes[0] = UInt8(declared - short)
            try expectReadFails(bytes, at: url, mentioning: ["bytes after the last tensor's data belong to no tensor"])
        }
        try expectReadFails(good + [0], at: url, mentioning: ["1 bytes after the last tensor's data belong to no tensor"])
        let gap = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}"#
        try expectReadFails(handMadeSafeTensors(header: gap, data: Array(repeating: 0, count: 20)), at: url,
                            mentioning: ["bytes 8..<12 of the data section belong to no tensor (before 'b')"])
        let late = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        try expectReadFails(handMadeSafeTensors(header: late, data: Array(repeating: 0, count: 12)), at: url,
                            mentioning: ["bytes 0..<4 of the data section belong to no tensor"])
    }

    @Test("a checkpoint with NaN or infinite weights is refused, naming the tensor, unless allowed")
    func nonFiniteWeights() throws {
        let scratch = try TemporaryDirectory()
        let (_, checkpoint) = try HostileFixtures.trainedCheckpoint(in: scratch)
        let damaged = scratch.file("nan.safetensors")
        try HostileFixtures.rewrite(checkpoint, to: damaged, tensors: { tensors in
            let index = try #require(tensors.firstIndex { $0.name.hasPrefix("model.") && $0.dtype == .float32 })
            var bytes = tensors[index].bytes
            bytes.replaceSubrange(0..<4, with: withUnsafeBytes(of: Float.nan.bitPattern.littleEndian, Array.init))
            tensors[index] = try SafeTensor(name: tensors[index].name, dtype: .float32, shape: tensors[index].shape, bytes: bytes)
        })
        let loaded = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: damaged))
        expectError(mentioning: [damaged, "holds 1 NaN or infinite value", "--allow-nonfinite"]) {
            _ = try loaded.makeTrainedModel(device: .cpu)
        }
        let refused = try Cortado.run(["eval", "--checkpoint", damaged, "--device", "cpu"])
        expectFailure(refused, mentioning: ["NaN or infinite", "--allow-nonfinite"])
        let allowed = try Cortado.run(["predict", "--checkpoint", damaged, "--input",
                                       (HostileFixtures.dataPath(scratch) as NSString).appendingPathComponent("t10k-images-idx3-ubyte"),
                                       "--device", "cpu", "--allow-nonfinite"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }

    @Test("checkpoint configurations that contradict themselves or the weights are refused, naming the field",
          arguments: [
              ("classNames", "classNames has 2 names, but the classification model has 3 outputs"),
              ("task", "a regression model has 1 output, but outputs is 3"),
              ("outputs", "has shape [3, 256] but [4, 256] was expected"),
              ("epochs", "epochsCompleted is -4"),
              ("steps", "steps is -1"),
              ("sampleShape", "sampleShape [1000000000, 1000000000] is not a shape"),
              ("batchSize", "batchSize is 0"),
          ])
    func contradictoryCheckpoints(field: String, message: String) throws {
        let scratch = try TemporaryDirectory()
        let (_, checkpoint) = try HostileFixtures.trainedCheckpoint(in: scratch)
        try HostileFixtures.rewrite(checkpoint, configuration: { configuration in
            switch field {
            case "classNames": configuration["classNames"] = ["0", "1"]
            case "task": configuration["task"] = "regression"
            case "outputs":
                configuration["outputs"] = 4
                configuration["classNames"] = ["0", "1", "2", "3"]
            case "epochs": configuration["epochsCompleted"] = -4
            case "steps": configuration["steps"] = -1
            case "sampleShape": configuration["sampleShape"] = [1_000_000_000, 1_000_000_000]
            default: configuration["batchSize"] = 0
            }
        })
        expectError(mentioning: [checkpoint, message]) {
            _ = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: checkpoint)).makeTrainedModel(device: .cpu)
        }
        expectFailure(try Cortado.run(["eval", "--checkpoint", checkpoint, "--device", "cpu"]), mentioning: [message])
    }

    @Test("--resume from a checkpoint with a negative epoch count is refused")
    func negativeEpochResume() throws {
        let scratch = try TemporaryDirectory()
        let (data, checkpoint) = try HostileFixtures.trainedCheckpoint(in: scratch)
        try HostileFixtures.rewrite(checkpoint, configuration: { $0["epochsCompleted"] = -2 })
        let result = try Cortado.run(["train", "--data", data, "--resume", checkpoint, "--epochs", "2", "--device", "cpu"])
        expectFailure(result, mentioning: [checkpoint, "epochsCompleted is -2"])
    }

    @Test("IDX: a header promising gigabytes on a short file is truncated, without allocating them; gzip without its trailer is refused")
    func idxAndGzip() throws {
        let scratch = try TemporaryDirectory()
        // 30000 × 256 × 256 bytes: 1.8 GiB promised, 3 bytes there.
        let huge = try scratch.write("huge-idx3-ubyte", IDXBytes.file(typeCode: 0x08, dimensions: [30000, 256, 256], payload: [1, 2, 3]))
        let before = peakResidentBytes()
        expectDataError(containing: [huge, "truncated", "found 3"]) { _ = try IDXFile.read(path: huge, expecting: .images) }
        #expect(peakResidentBytes() - before < 1 << 30, "reading the short file allocated what its header claimed")
        // Found by the fuzzer (Fuzz/Corpus/idx/regression-slow-header): 67,108,866 × 2 floats promised, 12 bytes there.
        let promised = try scratch.write("floats-idx", [0, 0, 0x0D, 2, 4, 0, 0, 2, 0, 0, 0, 2] + Array(repeating: 1, count: 12))
        expectDataError(containing: [promised, "truncated", "found 12"]) { _ = try IDXFile.read(path: promised) }
        // A gzip file whose 8-byte trailer (CRC and length) is cut off.
        let whole = try scratch.write("labels.gz", IDXBytes.labels([0, 1, 2, 1]))
        let compressed = try Data(contentsOf: URL(fileURLWithPath: whole))
        let cut = scratch.file("cut-labels.gz")
        try compressed.dropLast(8).write(to: URL(fileURLWithPath: cut))
        #expect(try IDXFile.read(path: whole, expecting: .labels).rawBytes == [0, 1, 2, 1])
        expectDataError(containing: [cut, "cut short"]) { _ = try IDXFile.read(path: cut, expecting: .labels) }
        // A device or a directory is named as such.
        expectDataError(containing: ["/dev/zero", "device"]) { _ = try IDXFile.read(path: "/dev/zero", expecting: .images) }
        expectDataError(containing: [scratch.path, "directory"]) { _ = try IDXFile.read(path: scratch.path, expecting: .images) }
    }

    @Test("training and test images of different sizes are refused, naming both files")
    func imageShapeMismatch() throws {
        let directory = try TemporaryDirectory()
        try writeMNISTDirectory(directory)
        try directory.write("t10k-images-idx3-ubyte", IDXBytes.images(count: 3, rows: 4, columns: 4))
        expectDataError(containing: ["train-images-idx3-ubyte", "t10k-images-idx3-ubyte", "3 × 2", "4 × 4"]) {
            _ = try MNISTFormat.load(directory: directory.path)
        }
    }

    @Test("a model directory: vocab.txt longer than vocab_size, absurd config.json sizes, Swift-free messages")
    func modelDirectory() throws {
        let scratch = try TemporaryDirectory()
        let path = try TinyBertDirectory.write(in: scratch)
        let directory = try PretrainedModelDirectory(path: path)
        let vocabulary = directory.vocabularyURL
        let words = try String(contentsOf: vocabulary, encoding: .utf8)
        try (words + "extra1\nextra2\n").write(to: vocabulary, atomically: true, encoding: .utf8)
        expectError(mentioning: [vocabulary.path, "more than the", "rows of the word embedding"]) {
            _ = try SentenceEncoder(directory: directory, device: .cpu)
        }
        try words.write(to: vocabulary, atomically: true, encoding: .utf8)

        let config = directory.configURL
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as? [String: Any])
        let original = object
        object["num_hidden_layers"] = 1_000_000_000
        try JSONSerialization.data(withJSONObject: object).write(to: config)
        expectError(mentioning: [config.path, "num_hidden_layers 1000000000 is implausible"]) { _ = try directory.loadConfig() }
        object = original
        object["num_hidden_layers"] = 1000
        object["hidden_size"] = 65536
        object["num_attention_heads"] = 1
        object["intermediate_size"] = 65536
        try JSONSerialization.data(withJSONObject: object).write(to: config)
        expectError(mentioning: [config.path, "needs about", "more than the"]) { _ = try directory.loadConfig() }
        object = original
        object["hidden_size"] = "wide"
        try JSONSerialization.data(withJSONObject: object).write(to: config)
        expectError(mentioning: [config.path, "'hidden_size' must be an integer"]) { _ = try directory.loadConfig() }
        try Data("[1, 2]".utf8).write(to: config)
        do {
            _ = try directory.loadConfig()
            Issue.record("a JSON array was accepted as a configuration")
        } catch {
            #expect(!"\(error)".contains("DecodingError") && !"\(error)".contains("codingPath"), "\(error)")
        }
    }

    @Test("a tuned-parameter table with zeros or absurd values is ignored with a note; every field is validated")
    func tunedTable() throws {
        var zero = KernelParameters.defaults(for: .cpu)
        zero.columnBlock = 0
        #expect(throws: CortadoError.self) { try zero.validate() }
        var absurd = KernelParameters.defaults(for: .cpu)
        absurd.recurrent.unitsPerItem = 0
        #expect(throws: CortadoError.self) { try absurd.validate() }
        absurd = KernelParameters.defaults(for: .cpu)
        absurd.recurrent.rowsPerItem = 0
        #expect(throws: CortadoError.self) { try absurd.validate() }
        absurd = KernelParameters.defaults(for: .gpu)
        absurd.reductionWorkGroup = 3
        #expect(throws: CortadoError.self) { try absurd.validate() }
        absurd = KernelParameters.defaults(for: .gpu)
        absurd.elementwiseWorkGroup = 1 << 40
        #expect(throws: CortadoError.self) { try absurd.validate() }
        absurd = KernelParameters.defaults(for: .gpu)
        absurd.gemm.tileM = 1 << 30
        #expect(throws: CortadoError.self) { try absurd.validate() }
        for profile in KernelProfile.allCases { try KernelParameters.defaults(for: profile).validate() }

        let directory = try TemporaryDirectory()
        let store = TunedParameterStore(directory: directory.url)
        let record = try DeviceRegistry.shared.record(for: Device(kind: .opencl, index: 0, profile: nil, instance: 40))
        let entry = TunedParameterStore.Entry(
            device: record.info.name, driver: record.info.driverVersion, platform: record.info.platform ?? "",
            parameters: zero, defaultScore: 1, tunedScore: 2, date: "2026-12-03T00:00:00Z")
        try store.save(entry, for: record.info)
        #expect(store.entry(for: record.info) == nil)
        guard case let .failure(problem)? = store.load(for: record.info) else {
            Issue.record("a table with columnBlock 0 was accepted")
            return
        }
        #expect("\(problem)".contains("columnBlock 0"), "\(problem)")
        let backend = try OpenCLBackend(record: record, device: Device(kind: .opencl, index: 0, profile: nil, instance: 41), store: store)
        #expect(backend.parameters == KernelParameters.defaults(for: KernelProfile(for: record.info.type)))
        try Data("{\"device\": 1}".utf8).write(to: store.file(for: record.info))
        #expect(store.entry(for: record.info) == nil)
    }

    @Test("a truncated or corrupt kernel-cache binary is detected by its checksum and rebuilt, never given to the driver")
    func corruptProgramCache() throws {
        let first = Device(kind: .opencl, index: 0, profile: .gpu, instance: 42)
        _ = try (Tensor([1, 2, 3], device: first) + 1).toArray()
        let folder = CacheDirectory.url.appendingPathComponent("kernels")
        let entries = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("elementwise-") && $0.pathExtension == "bin" }
        #expect(!entries.isEmpty)
        for (index, entry) in entries.enumerated() {
            var bytes = try Data(contentsOf: entry)
            if index % 2 == 0 { bytes = bytes.prefix(bytes.count / 2) } else { bytes[bytes.count / 2] ^= 0xFF }
            try bytes.write(to: entry)
        }
        // A stale temporary file of a process that no longer runs.
        let stale = folder.appendingPathComponent("elementwise-0.bin.tmp-999999")
        try Data([1, 2, 3]).write(to: stale)
        let second = Device(kind: .opencl, index: 0, profile: .gpu, instance: 43)
        #expect(try (Tensor([1, 2, 3], device: second) + 1).toArray() == [2, 3, 4])
        #expect(try second.compileStatistics.compiledFromSource >= 1)
        #expect(!FileManager.default.fileExists(atPath: stale.path), "the stale temporary file was not removed")
        let third = Device(kind: .opencl, index: 0, profile: .gpu, instance: 44)
        #expect(try (Tensor([1, 2, 3], device: third) + 1).toArray() == [2, 3, 4])
        #expect(try third.compileStatistics.loadedFromCache >= 1, "the rebuilt entry was not stored again")
    }
}
