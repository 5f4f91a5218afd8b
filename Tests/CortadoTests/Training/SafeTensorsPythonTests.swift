import CortadoTraining
import Foundation
import Testing

/// Reads a safetensors file with nothing but `struct` and `json` and prints what it found as JSON:
/// float tensors as bit patterns (and their values, decoded by Python), integer tensors as integers. It asserts what the reference
/// reader requires: a padded header, offsets that tile the data section exactly, matching sizes.
private let pythonReader = #"""
import json, struct, sys
path = sys.argv[1]
with open(path, "rb") as f:
    blob = f.read()
(n,) = struct.unpack("<Q", blob[:8])
header_bytes = blob[8:8 + n]
assert n % 8 == 0, "header length %d is not a multiple of 8" % n
header = json.loads(header_bytes.decode("utf-8"))
data = blob[8 + n:]
metadata = header.pop("__metadata__", {})
sizes = {"F32": 4, "I32": 4, "F16": 2, "BF16": 2, "I8": 1, "U8": 1, "I64": 8}
tensors = {}
expected_begin = 0
for name, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"]):
    begin, end = entry["data_offsets"]
    assert begin == expected_begin, "%s begins at %d, expected %d" % (name, begin, expected_begin)
    count = 1
    for extent in entry["shape"]:
        count *= extent
    assert end - begin == count * sizes[entry["dtype"]], name
    code = {"F32": "I", "I32": "i", "F16": "H", "BF16": "H", "I8": "b", "U8": "B", "I64": "q"}[entry["dtype"]]
    raw = data[begin:end]
    values = list(struct.unpack("<%d%s" % (count, code), raw))
    if entry["dtype"] == "F32":
        floats = []  # compared as bits: NaN and infinities are not JSON
    elif entry["dtype"] == "F16":
        floats = list(struct.unpack("<%de" % count, raw))
    elif entry["dtype"] == "BF16":
        floats = [struct.unpack("<f", struct.pack("<I", bits << 16))[0] for bits in values]
    else:
        floats = [float(v) for v in values]
    tensors[name] = {"dtype": entry["dtype"], "shape": entry["shape"], "values": values, "floats": floats}
    expected_begin = end
assert expected_begin == len(data), "data section has %d bytes, tensors cover %d" % (len(data), expected_begin)
print(json.dumps({"metadata": metadata, "tensors": tensors}))
"""#

/// Writes a safetensors file the way the reference implementation lays one out (metadata, space
/// padding, tensors in name order and contiguous), using only `struct` and `json`.
private let pythonWriter = #"""
import json, struct, sys
path = sys.argv[1]
def bf16(x):
    return struct.unpack("<I", struct.pack("<f", x))[0] >> 16
tensors = [
    ("a.f32", "F32", [2, 2], struct.pack("<4f", 1.5, -2.0, 0.0, 3.25)),
    ("b.i32", "I32", [3], struct.pack("<3i", -7, 0, 2147483647)),
    ("c.f16", "F16", [3], struct.pack("<3e", 0.5, -65504.0, 2.0 ** -24)),
    ("d.bf16", "BF16", [2], struct.pack("<2H", bf16(1.0), bf16(-3.0))),
    ("e.f64", "F64", [2], struct.pack("<2d", 0.25, -1e10)),
    ("f.i64", "I64", [2, 1], struct.pack("<2q", -5, 2147483647)),
    ("g.u8", "U8", [3], bytes([0, 200, 255])),
    ("h.bool", "BOOL", [2], bytes([1, 0])),
    ("i.scalar", "F32", [], struct.pack("<f", 42.0)),
    ("j.empty", "F32", [0, 3], b""),
]
header = {"__metadata__": {"format": "pt", "note": "written by \"python\""}}
data = b""
for name, dtype, shape, raw in tensors:
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
text = json.dumps(header, separators=(",", ":")).encode("utf-8")
text += b" " * ((8 - len(text) % 8) % 8)
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)
print(len(text))
"""#

/// What the Python reader prints.
private struct PythonView: Decodable {
    struct Entry: Decodable {
        let dtype: String
        let shape: [Int]
        let values: [Int64]
        let floats: [Double]
    }

    let metadata: [String: String]
    let tensors: [String: Entry]
}

@Suite("SafeTensors files agree with an independent Python reader and writer")
struct SafeTensorsPythonTests {
    @Test("Python's struct and json read back exactly what Cortado wrote")
    func pythonReadsOurFile() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("model.safetensors")
        let tensors = try roundTripCases.map { item in
            item.dtype == .float32
                ? try SafeTensor(name: item.name, values: item.floats, shape: item.shape)
                : try SafeTensor(name: item.name, indices: item.integers, shape: item.shape)
        }
        try SafeTensors.write(tensors, metadata: awkwardMetadata, to: url)

        let output = try runPython(pythonReader, arguments: [url.path])
        let view = try JSONDecoder().decode(PythonView.self, from: Data(output.utf8))
        #expect(view.metadata == awkwardMetadata)
        #expect(Set(view.tensors.keys) == Set(roundTripCases.map(\.name)))
        for item in roundTripCases {
            let entry = try #require(view.tensors[item.name])
            #expect(entry.shape == item.shape)
            if item.dtype == .float32 {
                #expect(entry.dtype == "F32")
                #expect(entry.values == item.floats.map { Int64($0.bitPattern) }, "\(item.name)")
            } else {
                #expect(entry.dtype == "I32")
                #expect(entry.values == item.integers.map(Int64.init), "\(item.name)")
            }
        }
    }

    @Test("Python reads the F16, BF16, I8, U8 and I64 tensors Cortado writes from device tensors, which load back as they were",
          arguments: TestDevices.all)
    func pythonReadsNarrowTypes(device: Device) throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("narrow.safetensors")
        let values: [Float] = [0.5, -65504, 0x1p-24, 1.0 / 3, -2.75, 100.25]
        let tensors = [
            ("half", try Tensor(values, shape: [2, 3], dtype: .float16, device: device)),
            ("brain", try Tensor(values, shape: [3, 2], dtype: .bfloat16, device: device)),
            ("bytes", try Tensor(elements: [Int8(-128), 0, 127, -1], device: device)),
            ("unsigned", try Tensor(elements: [UInt8(0), 200, 255], device: device)),
            ("positions", try Tensor(elements: [Int64(-5), 1 << 40, .max], device: device)),
        ]
        try SafeTensors.write(tensors.map { (name: $0.0, tensor: $0.1) }, to: url)

        let view = try JSONDecoder().decode(PythonView.self, from: Data(try runPython(pythonReader, arguments: [url.path]).utf8))
        let half = try #require(view.tensors["half"]), brain = try #require(view.tensors["brain"])
        #expect(half.dtype == "F16" && half.shape == [2, 3])
        // Python decodes the half bits itself ('e'); 1/3 and 100.25 round to the nearest half.
        #expect(half.floats == [0.5, -65504, 0x1p-24, 0.333251953125, -2.75, 100.25])
        #expect(brain.dtype == "BF16" && brain.shape == [3, 2])
        #expect(brain.floats == [0.5, -65536, 0x1p-24, 0.333984375, -2.75, 100])
        #expect(view.tensors["bytes"]?.dtype == "I8" && view.tensors["bytes"]?.values == [-128, 0, 127, -1])
        #expect(view.tensors["unsigned"]?.dtype == "U8" && view.tensors["unsigned"]?.values == [0, 200, 255])
        #expect(view.tensors["positions"]?.dtype == "I64" && view.tensors["positions"]?.values == [-5, 1 << 40, .max])

        let file = try SafeTensorsFile(contentsOf: url)
        for (name, tensor) in tensors {
            let loaded = try file.tensor(name, device: device)
            #expect(loaded.dtype == tensor.dtype && loaded.shape == tensor.shape, "\(name)")
            #expect(try loaded.storedBytes() == tensor.storedBytes(), "\(name)")
        }
        // Asked for another float type, the values are converted.
        #expect(try file.tensor("half", dtype: .float32, device: device).toArray() == [0.5, -65504, 0x1p-24, 0.333251953125, -2.75, 100.25])
    }

    @Test("Cortado reads a file Python wrote, keeping F16, BF16, I64 and U8 and converting F64 and BOOL")
    func weReadPythonsFile() throws {
        let scratch = try TemporaryDirectory()
        let url = scratch.fileURL("from-python.safetensors")
        let headerLength = try runPython(pythonWriter, arguments: [url.path])
        #expect(Int(headerLength.trimmingCharacters(in: .whitespacesAndNewlines)).map { $0 % 8 } == 0)

        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.metadata == ["format": "pt", "note": "written by \"python\""])
        #expect(file.tensorNames == ["a.f32", "b.i32", "c.f16", "d.bf16", "e.f64", "f.i64", "g.u8", "h.bool", "i.scalar", "j.empty"])
        #expect(try file.floats("a.f32") == [1.5, -2, 0, 3.25])
        #expect(try file.int32s("b.i32") == [-7, 0, Int32.max])
        #expect(try file.floats("c.f16") == [0.5, -65504, 0x1p-24])
        #expect(try file.floats("d.bf16") == [1, -3])
        #expect(try file.floats("e.f64") == [0.25, -1e10])
        #expect(try file.int32s("f.i64") == [-5, Int32.max])
        #expect(try file.int32s("g.u8") == [0, 200, 255])
        #expect(try file.int32s("h.bool") == [1, 0])
        #expect(try file.floats("i.scalar") == [42])
        #expect(try file.floats("j.empty") == [])

        let weights = try file.tensor("a.f32", shape: [2, 2], dtype: .float32, device: .cpu)
        #expect(try weights.toArray() == [1.5, -2, 0, 3.25])
        let halves = try file.tensor("c.f16", device: .cpu)
        #expect(halves.dtype == .float16)
        #expect(try halves.toArray() == [0.5, -65504, 0x1p-24])
        #expect(try file.tensor("d.bf16", device: .cpu).dtype == .bfloat16)
        #expect(try file.tensor("c.f16", dtype: .float32, device: .cpu).toArray() == [0.5, -65504, 0x1p-24])
        #expect(try file.tensor("e.f64", device: .cpu).dtype == .float32)
        #expect(try file.tensor("g.u8", device: .cpu).dtype == .uint8)
        #expect(try file.tensor("h.bool", device: .cpu).toIntArray() == [1, 0])
        let counts = try file.tensor("f.i64", shape: [2, 1], device: .cpu)
        #expect(counts.dtype == .int64)
        #expect(try counts.toIntArray() == [-5, Int32.max])
        #expect(try file.tensor("f.i64", dtype: .int32, device: .cpu).toIntArray() == [-5, Int32.max])
        #expect(try file.tensor("j.empty", device: .cpu).shape == [0, 3])
    }
}
