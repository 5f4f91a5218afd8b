import CortadoTraining
import Foundation
import Testing

/// A valid two-tensor file: `conv1.weight` (F32 [2, 3], 24 bytes at [0, 24]) and `labels`
/// (I32 [4], 16 bytes at [24, 40]), with metadata.
private func validFile() throws -> [UInt8] {
    let scratch = try TemporaryDirectory()
    let url = scratch.fileURL("valid.safetensors")
    try SafeTensors.write([
        try SafeTensor(name: "conv1.weight", values: [1, 2, 3, 4, 5, 6], shape: [2, 3]),
        try SafeTensor(name: "labels", indices: [0, 1, 2, 3], shape: [4]),
    ], metadata: ["epoch": "3"], to: url)
    return Array(try Data(contentsOf: url))
}

/// A header with one tensor entry `conv1.weight` written as `entry`, over 24 data bytes.
private func oneTensor(_ entry: String, data: Int = 24, metadata: String? = nil) -> [UInt8] {
    let fields = (metadata.map { [#""__metadata__":\#($0)"#] } ?? []) + [#""conv1.weight":\#(entry)"#]
    return handMadeSafeTensors(header: "{\(fields.joined(separator: ","))}", data: Array(repeating: 0, count: data))
}

@Suite("SafeTensors reader rejects damaged files")
struct SafeTensorsCorruptionTests {
    @Test("a file cut short anywhere is an error naming the file and saying how")
    func truncation() throws {
        let valid = try validFile()
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        let headerLength = valid.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        try expectReadFails([], at: url, mentioning: ["not a safetensors file", "empty"])
        for cut in [1, 3, 7] {
            try expectReadFails(Array(valid.prefix(cut)), at: url, mentioning: ["\(cut) bytes, too short for the 8-byte header length"])
        }
        for cut in [9, 8 + headerLength / 2, 8 + headerLength - 1] {
            try expectReadFails(Array(valid.prefix(cut)), at: url, mentioning: [
                "truncated: the header length says \(headerLength) bytes but only \(cut - 8) follow it",
            ])
        }
        try expectReadFails(Array(valid.prefix(8)), at: url, mentioning: ["not a safetensors file (header length \(headerLength) exceeds the file"])
        try expectReadFails(Array(valid.prefix(8 + headerLength)), at: url, mentioning: [
            "tensor 'conv1.weight' data_offsets [0, 24] exceed the data section (0 bytes)",
        ])
        try expectReadFails(Array(valid.prefix(8 + headerLength + 30)), at: url, mentioning: [
            "tensor 'labels' data_offsets [24, 40] exceed the data section (30 bytes)",
        ])
        try expectReadFails(Array(valid.dropLast()), at: url, mentioning: ["exceed the data section (39 bytes)"])
    }

    @Test("a garbage header length is not mistaken for a header")
    func garbageLength() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("garbage.bin")
        let text = Array("this is a text file, not a checkpoint\n".utf8)
        let declared = text.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        try expectReadFails(text, at: url, mentioning: ["not a safetensors file (header length \(declared) exceeds the 100000000-byte limit)"])
        try expectReadFails(littleEndian(8_391_821) + Array(repeating: 0x41, count: 92), at: url, mentioning: [
            "not a safetensors file (header length 8391821 exceeds the file",
        ])
        try expectReadFails(littleEndian(.max) + Array("{}".utf8), at: url, mentioning: ["exceeds the 100000000-byte limit"])
    }

    @Test("a header that is not a UTF-8 JSON object is an error")
    func notJSON() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        try expectReadFails(handMadeSafeTensors(header: "{\"a\": [1, 2", data: []), at: url, mentioning: [
            "header is not valid JSON (it begins '{\"a\": [1, 2",
        ])
        try expectReadFails(handMadeSafeTensors(header: "", data: [], pad: false), at: url, mentioning: ["header is not valid JSON"])
        try expectReadFails(littleEndian(4) + [0x7B, 0xFF, 0xFE, 0x7D], at: url, mentioning: ["header is not valid UTF-8"])
        try expectReadFails(handMadeSafeTensors(header: "[1, 2, 3]", data: []), at: url, mentioning: ["header is an array, not a JSON object"])
        try expectReadFails(handMadeSafeTensors(header: "\"text\"", data: []), at: url, mentioning: ["header is a string, not a JSON object"])
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        try expectReadFails(handMadeSafeTensors(header: "{\"a\":\(deep)}", data: []), at: url, mentioning: ["header is not"])
    }

    @Test("tensor entries with a bad dtype, shape or offsets are errors naming the tensor")
    func badEntries() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        let cases: [(entry: String, fragments: [String])] = [
            (#"{"dtype":"F33","shape":[2,3],"data_offsets":[0,24]}"#, [#"tensor 'conv1.weight' has unknown dtype "F33""#, "F32"]),
            (#"{"dtype":7,"shape":[2,3],"data_offsets":[0,24]}"#, ["tensor 'conv1.weight' has no dtype string (dtype: 7)"]),
            (#"{"shape":[2,3],"data_offsets":[0,24]}"#, ["has no dtype string (dtype: missing)"]),
            (#"{"dtype":"F32","shape":[2,-3],"data_offsets":[0,24]}"#, ["shape must be an array of non-negative integers, not [2, -3]"]),
            (#"{"dtype":"F32","shape":[2,1.5],"data_offsets":[0,24]}"#, ["shape must be an array of non-negative integers"]),
            (#"{"dtype":"F32","shape":"2x3","data_offsets":[0,24]}"#, ["shape must be an array of non-negative integers"]),
            (#"{"dtype":"F32","shape":[2,3]}"#, ["data_offsets must be two non-negative integers [begin, end], not missing"]),
            (#"{"dtype":"F32","shape":[2,3],"data_offsets":[0]}"#, ["data_offsets must be two non-negative integers"]),
            (#"{"dtype":"F32","shape":[2,3],"data_offsets":[-8,16]}"#, ["data_offsets must be two non-negative integers"]),
            (#"{"dtype":"F32","shape":[2,3],"data_offsets":[24,0]}"#, ["data_offsets [24, 0] end before they begin"]),
            (#"{"dtype":"F32","shape":[2,3],"data_offsets":[0,1000]}"#, ["tensor 'conv1.weight' data_offsets [0, 1000] exceed the data section (24 bytes)"]),
            (#"{"dtype":"F32","shape":[2,3],"data_offsets":[0,99999999999999999999]}"#, ["data_offsets must be two non-negative integers"]),
            (#"{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}"#, ["tensor 'conv1.weight' of shape [2, 3] and dtype F32 needs 24 bytes but data_offsets [0, 20] hold 20"]),
            (#"{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,24]}"#, ["shape [4611686018427387904, 4] is too large"]),
            (#"[1, 2]"#, ["tensor 'conv1.weight' is an array, not an object"]),
        ]
        for (entry, fragments) in cases {
            try expectReadFails(oneTensor(entry), at: url, mentioning: fragments)
        }
    }

    @Test("overlapping tensors are an error naming both")
    func overlap() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        let header = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"I32","shape":[2],"data_offsets":[8,16]},"#
            + #""empty":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}"#
        try expectReadFails(handMadeSafeTensors(header: header, data: Array(repeating: 0, count: 16)), at: url, mentioning: [
            "tensors 'a' [0, 16] and 'b' [8, 16] overlap",
        ])
        let inside = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"empty":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}"#
        try Data(handMadeSafeTensors(header: inside, data: Array(repeating: 0, count: 8))).write(to: url)
        #expect(try SafeTensorsFile(contentsOf: url).tensorNames == ["a", "empty"], "an empty tensor overlaps nothing")
    }

    @Test("metadata must map strings to strings")
    func badMetadata() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        let entry = #"{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}"#
        try expectReadFails(oneTensor(entry, metadata: #"{"epoch":3}"#), at: url, mentioning: ["__metadata__ value for 'epoch' is a number, not a string"])
        try expectReadFails(oneTensor(entry, metadata: #"{"a":"1","nested":{"b":"c"}}"#), at: url, mentioning: ["__metadata__ value for 'nested' is an object"])
        try expectReadFails(oneTensor(entry, metadata: #"{"flag":null}"#), at: url, mentioning: ["__metadata__ value for 'flag' is null"])
        try expectReadFails(oneTensor(entry, metadata: #"["a"]"#), at: url, mentioning: ["__metadata__ is an array, not an object of strings"])
        try Data(oneTensor(entry, metadata: "null")).write(to: url)
        #expect(try SafeTensorsFile(contentsOf: url).metadata.isEmpty, "null metadata is no metadata")
    }

    @Test("a missing file, a directory and a file over the size cap are errors")
    func notAFile() throws {
        let scratch = try TemporaryDirectory()
        expectReadFails(scratch.fileURL("missing.safetensors"), mentioning: ["no such file"])
        expectReadFails(scratch.url, mentioning: ["is a directory"])
        let url = scratch.fileURL("model.safetensors")
        try Data(try validFile()).write(to: url)
        do {
            _ = try SafeTensorsFile(contentsOf: url, maximumFileSize: 64)
            Issue.record("a file over the cap was read")
        } catch let error as CheckpointError {
            expectMessage(error, names: url, mentioning: ["a checkpoint may have"])
        }
        do {
            _ = try SafeTensorsFile(contentsOf: url, maximumHeaderSize: 16)
            Issue.record("a header over the cap was read")
        } catch let error as CheckpointError {
            expectMessage(error, names: url, mentioning: ["exceeds the 16-byte limit"])
        }
    }

    @Test("an I64 or U32 value outside Int32 is an error giving its position")
    func integerRange() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        let big = littleEndian(UInt64(Int64(Int32.max) + 1))
        try SafeTensors.write([try SafeTensor(name: "ids", dtype: .int64, shape: [2], bytes: littleEndian(3) + big)], to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(throws: CheckpointError(url, "tensor 'ids' element 1 is 2147483648, which does not fit in Int32")) {
            try file.int32s("ids")
        }
    }

    @Test("200 random mutations of a valid file either read or throw, never trap")
    func fuzz() throws {
        let valid = try validFile()
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("fuzz.safetensors")
        let headerEnd = 8 + valid.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        var random = SplitMix64(state: 2024)
        var outcomes = (read: 0, rejected: 0)
        for iteration in 0..<200 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                mutate(&bytes, headerEnd: headerEnd, using: &random)
            }
            try Data(bytes).write(to: url)
            do {
                let file = try SafeTensorsFile(contentsOf: url)
                outcomes.read += 1
                for name in file.tensorNames {
                    _ = try? file.rawTensor(name)
                    _ = try? file.floats(name)
                    _ = try? file.int32s(name)
                    _ = try? file.tensor(name, device: .cpu)
                }
            } catch let error as CheckpointError {
                outcomes.rejected += 1
                #expect(error.description.hasPrefix(url.path + ": "), "iteration \(iteration): \(error)")
            } catch {
                Issue.record("iteration \(iteration) threw \(type(of: error)): \(error)")
            }
        }
        #expect(outcomes.read + outcomes.rejected == 200)
        #expect(outcomes.rejected > 0)
    }
}

/// One random change, mostly inside the header where parsing happens.
private func mutate(_ bytes: inout [UInt8], headerEnd: Int, using random: inout SplitMix64) {
    guard !bytes.isEmpty else { return }
    let inHeader = Int.random(in: 8..<max(9, min(headerEnd, bytes.count)), using: &random)
    let anywhere = Int.random(in: 0..<bytes.count, using: &random)
    switch Int.random(in: 0..<8, using: &random) {
    case 0: bytes[anywhere] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
    case 1: if inHeader < bytes.count { bytes[inHeader] = UInt8.random(in: 0...255, using: &random) }
    case 2: bytes.removeLast(Int.random(in: 0...bytes.count, using: &random))
    case 3: bytes.insert(contentsOf: (0..<Int.random(in: 1...9, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }, at: anywhere)
    case 4: bytes.replaceSubrange(0..<min(8, bytes.count), with: littleEndian(random.next() >> UInt64.random(in: 0...63, using: &random)))
    case 5:
        if inHeader < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[inHeader]) {
            bytes[inHeader] = UInt8.random(in: UInt8(ascii: "0")...UInt8(ascii: "9"), using: &random)
        } else if bytes.count > 8, let digit = bytes[8..<min(headerEnd, bytes.count)].firstIndex(where: { (48...57).contains($0) }) {
            bytes[digit] = UInt8.random(in: 48...57, using: &random)
        }
    case 6: if inHeader < bytes.count { bytes.remove(at: inHeader) }
    default:
        let tokens = ["\"", "{", "}", "[", "]", ",", ":", "-1", "1e99", "null", "\\u"].map { Array($0.utf8) } + [[0xFF]]
        if inHeader < bytes.count, let token = tokens.randomElement(using: &random) {
            bytes.insert(contentsOf: token, at: inHeader)
        }
    }
}
