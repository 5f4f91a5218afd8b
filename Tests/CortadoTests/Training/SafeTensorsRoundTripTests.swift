import CortadoTraining
import Foundation
import Testing

/// Floats that a lossy path would change: NaN payloads, signed zero, infinities, subnormals.
let awkwardFloats: [Float] = [
    Float(bitPattern: 0x7FC0_1234), -0.0, .infinity, -.infinity, Float(bitPattern: 1), .greatestFiniteMagnitude,
    -.leastNormalMagnitude, 1.0 / 3.0, 0, 1, -2.5, 1e-30,
]

/// One tensor of a round-trip case: name, shape and element type.
struct TensorCase: Sendable {
    let name: String
    let shape: [Int]
    let dtype: DType

    var count: Int { shape.reduce(1, *) }

    /// Deterministic float values with the awkward ones first.
    var floats: [Float] { Array((awkwardFloats + Fixtures.values(count, seed: 5)).prefix(count)) }

    /// Deterministic integers including the extremes.
    var integers: [Int32] { Array(([Int32.min, Int32.max, -1, 0] + (0..<Int32(count)).map { $0 * 7919 - 50 }).prefix(count)) }
}

/// Rank 0, empty dimensions, ranks 1 to 4, both element types.
let roundTripCases: [TensorCase] = [
    TensorCase(name: "scalar", shape: [], dtype: .float32),
    TensorCase(name: "empty", shape: [0], dtype: .float32),
    TensorCase(name: "empty.middle", shape: [2, 0, 3], dtype: .float32),
    TensorCase(name: "bias", shape: [7], dtype: .float32),
    TensorCase(name: "fc.weight", shape: [3, 5], dtype: .float32),
    TensorCase(name: "conv1.weight", shape: [2, 3, 2, 2], dtype: .float32),
    TensorCase(name: "labels", shape: [6], dtype: .int32),
    TensorCase(name: "step", shape: [], dtype: .int32),
    TensorCase(name: "index.matrix", shape: [2, 3], dtype: .int32),
    TensorCase(name: "no.indices", shape: [0, 4], dtype: .int32),
]

/// Metadata that needs escaping in JSON: quotes, backslashes, control characters, non-ASCII.
let awkwardMetadata: [String: String] = [
    "epoch": "12",
    "format": "pt",
    "quote\"and\\backslash": "line\nbreak\ttab\u{01}control",
    "unicode é": "café 😀 中文",
    "": "empty key",
]

@Suite("SafeTensors round trip")
struct SafeTensorsRoundTripTests {
    @Test("F32 and I32 tensors of every shape and string metadata survive write and read bit for bit")
    func rawRoundTrip() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        let tensors = try roundTripCases.map { item in
            item.dtype == .float32
                ? try SafeTensor(name: item.name, values: item.floats, shape: item.shape)
                : try SafeTensor(name: item.name, indices: item.integers, shape: item.shape)
        }
        try SafeTensors.write(tensors, metadata: awkwardMetadata, to: url)

        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.metadata == awkwardMetadata)
        #expect(Set(file.tensorNames) == Set(roundTripCases.map(\.name)))
        for item in roundTripCases {
            let raw = try file.rawTensor(item.name)
            #expect(raw == tensors.first { $0.name == item.name })
            #expect(raw.shape == item.shape)
            if item.dtype == .float32 {
                #expect(raw.dtype == .float32)
                #expect(try file.floats(item.name).map(\.bitPattern) == item.floats.map(\.bitPattern), "\(item.name)")
            } else {
                #expect(raw.dtype == .int32)
                #expect(try file.int32s(item.name) == item.integers, "\(item.name)")
            }
        }
    }

    @Test("device tensors round-trip onto a chosen device", arguments: ["cpu", "opencl"])
    func deviceRoundTrip(deviceName: String) throws {
        let device = try Device(deviceName)
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("tensors.safetensors")
        let tensors = try roundTripCases.map { item in
            (name: item.name, tensor: item.dtype == .float32
                ? try Tensor(item.floats, shape: item.shape, device: device)
                : try Tensor(indices: item.integers, shape: item.shape, device: device))
        }
        try SafeTensors.write(tensors, metadata: ["device": device.id], to: url)

        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.metadata == ["device": device.id])
        for item in roundTripCases {
            let tensor = try file.tensor(item.name, shape: item.shape, dtype: item.dtype, device: device)
            #expect(tensor.device == device)
            #expect(tensor.shape == item.shape)
            #expect(tensor.dtype == item.dtype)
            if item.dtype == .float32 {
                #expect(try tensor.toArray().map(\.bitPattern) == item.floats.map(\.bitPattern), "\(item.name)")
            } else {
                #expect(try tensor.toIntArray() == item.integers, "\(item.name)")
            }
        }
    }

    @Test("a strided view is written in row-major order of its shape", arguments: ["cpu", "opencl"])
    func stridedView(deviceName: String) throws {
        let device = try Device(deviceName)
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("view.safetensors")
        let matrix = try Tensor((0..<6).map(Float.init), shape: [2, 3], device: device)
        try SafeTensors.write([(name: "transposed", tensor: matrix.transposed())], to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.info("transposed")?.shape == [3, 2])
        #expect(try file.floats("transposed") == [0, 3, 1, 4, 2, 5])
    }

    @Test("the same tensors give the same bytes; the header is padded to 8 bytes; wider types come first")
    func deterministicLayout() throws {
        let scratch = try TemporaryDirectory()
        let tensors = [
            try SafeTensor(name: "bytes", dtype: .uint8, shape: [3], bytes: [1, 2, 3]),
            try SafeTensor(name: "weights", values: [1.5, -2], shape: [2]),
            try SafeTensor(name: "counts", dtype: .int64, shape: [1], bytes: [9, 0, 0, 0, 0, 0, 0, 0]),
            try SafeTensor(name: "halves", dtype: .float16, shape: [1], bytes: [0x00, 0x3C]),
        ]
        let (first, second) = (scratch.fileURL("a.safetensors"), scratch.fileURL("b.safetensors"))
        try SafeTensors.write(tensors, metadata: ["b": "2", "a": "1"], to: first)
        try SafeTensors.write(tensors, metadata: ["a": "1", "b": "2"], to: second)
        let bytes = try Data(contentsOf: first)
        #expect(bytes == (try Data(contentsOf: second)))

        let headerLength = bytes.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(headerLength % 8 == 0)
        let header = String(decoding: bytes.dropFirst(8).prefix(headerLength), as: UTF8.self)
        #expect(header.hasPrefix(#"{"__metadata__":{"a":"1","b":"2"},"counts":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}"#))

        let file = try SafeTensorsFile(contentsOf: first)
        #expect(file.tensorNames == ["counts", "weights", "halves", "bytes"])
        #expect(file.tensors.map(\.dataOffsets) == [0..<8, 8..<16, 16..<18, 18..<21])
        #expect(bytes.count == 8 + headerLength + 21)
        #expect(try file.int32s("counts") == [9])
        #expect(try file.floats("halves") == [1])
        #expect(try file.int32s("bytes") == [1, 2, 3])
    }

    @Test("a tensor is read back only with the expected shape and element type")
    func expectationsAreChecked() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        try SafeTensors.write([try SafeTensor(name: "fc.weight", values: [1, 2, 3, 4, 5, 6], shape: [2, 3]),
                               try SafeTensor(name: "labels", indices: [1, 2], shape: [2])], to: url)
        let file = try SafeTensorsFile(contentsOf: url)

        func expectFailure(_ fragments: [String], _ body: () throws -> Any) {
            do {
                _ = try body()
                Issue.record("succeeded; expected \(fragments)")
            } catch let error as CheckpointError {
                expectMessage(error, names: url, mentioning: fragments)
            } catch {
                Issue.record("threw \(error)")
            }
        }
        expectFailure(["tensor 'fc.weight' has shape [2, 3] but [3, 2] was expected"]) {
            try file.tensor("fc.weight", shape: [3, 2], device: .cpu)
        }
        expectFailure(["tensor 'fc.weight' has dtype F32 but int32 was expected"]) {
            try file.tensor("fc.weight", dtype: .int32, device: .cpu)
        }
        expectFailure(["tensor 'labels' has dtype I32 but float32 was expected"]) {
            try file.tensor("labels", dtype: .float32, device: .cpu)
        }
        expectFailure(["no tensor named 'fc.bias'", "'fc.weight'", "'labels'"]) {
            try file.tensor("fc.bias", device: .cpu)
        }
        expectFailure(["tensor 'labels' has dtype I32, which cannot be read as floats"]) { try file.floats("labels") }
        expectFailure(["tensor 'fc.weight' has dtype F32, which cannot be read as integers"]) { try file.int32s("fc.weight") }
        #expect(try file.tensor("fc.weight", shape: [2, 3], dtype: .float32, device: .cpu).toArray() == [1, 2, 3, 4, 5, 6])
    }

    @Test("writing rejects repeated names and the reserved __metadata__ name")
    func invalidNames() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("bad.safetensors")
        let tensor = try SafeTensor(name: "w", values: [1], shape: [1])
        #expect(throws: CheckpointError(url, "cannot write two tensors named 'w'")) {
            try SafeTensors.write([tensor, tensor], to: url)
        }
        let reserved = try SafeTensor(name: "__metadata__", values: [1], shape: [1])
        #expect(throws: CheckpointError.self) { try SafeTensors.write([reserved], to: url) }
        #expect(try scratch.listing().isEmpty)
        #expect(throws: CortadoError.self) { try SafeTensor(name: "w", values: [1, 2], shape: [3]) }
    }
}
