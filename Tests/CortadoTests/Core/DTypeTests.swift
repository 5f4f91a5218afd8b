import Cortado
import Testing

/// Two values are the same stored value: equal, both NaN, or zeros of the same sign.
private func sameValue(_ a: Double, _ b: Double) -> Bool {
    (a.isNaN && b.isNaN) || (a == b && a.sign == b.sign)
}

/// A tensor of `dtype` holding `values` exactly, built from bytes the test encodes itself.
private func exactTensor(_ values: [Double], _ dtype: DType, shape: [Int]? = nil, device: Device) throws -> Tensor {
    try Tensor(storedBytes: DTypeReference.encode(values, as: dtype), shape: shape ?? [values.count], dtype: dtype, device: device)
}

@Suite("Element types: the backend contract")
struct DTypeTests {
    @Test("every element type has its width, and fills write that width")
    func widths() throws {
        #expect(DType.allCases.map(\.byteSize) == [4, 2, 2, 1, 1, 4, 8])
        #expect(DType.allCases.filter(\.isFloatingPoint) == [.float32, .float16, .bfloat16])
        #expect(DType.float16.bitPattern(of: 1) == 0x3C00)
        #expect(DType.bfloat16.bitPattern(of: -2) == 0xC000)
        #expect(DType.int8.bitPattern(of: -1) == 0xFF)
        #expect(DType.uint8.bitPattern(of: 300) == 0xFF)
        #expect(DType.int64.bitPattern(of: -1) == UInt64.max)
    }

    @Test("creation and readback of every type, on every backend", arguments: TestDevices.all)
    func creationAndReadback(device: Device) throws {
        let floats: [Float] = [1.5, -2.75, 0.1, 65504, 1e-5]
        for dtype in [DType.float32, .float16, .bfloat16] {
            let tensor = try Tensor(floats, shape: [5, 1], dtype: dtype, device: device)
            #expect(tensor.dtype == dtype && tensor.shape == [5, 1])
            let expected = floats.map { DTypeReference.convert(Double($0), from: .float32, to: dtype) }.map(Float.init)
            #expect(try tensor.toArray() == expected, "\(dtype)")
            #expect(try DTypeReference.decode(tensor.storedBytes(), as: dtype).map(Float.init) == expected, "\(dtype) bytes")
        }
        #expect(try Tensor(elements: [Float16(0.5), -3], device: device).toArray() == [0.5, -3])
        #expect(try Tensor(elements: [BFloat16(0.5), BFloat16(-3)], device: device).elements(as: BFloat16.self).map(\.float) == [0.5, -3])
        #expect(try Tensor(elements: [Int8(-128), 127], device: device).toIntArray() == [-128, 127])
        #expect(try Tensor(elements: [UInt8(0), 255], device: device).toIntArray() == [0, 255])
        #expect(try Tensor(elements: [Int64(-7), 1 << 31 - 1], device: device).toIntArray() == [-7, Int32.max])
        #expect(try Tensor(elements: [Int64(1) << 40], device: device).elements(as: Int64.self) == [1 << 40])
        #expect(throws: CortadoError.self) { try Tensor(elements: [Int64(1) << 40], device: device).toIntArray() }
        #expect(throws: CortadoError.self) { try Tensor(elements: [Int8(1)], device: device).toArray() }
        #expect(throws: CortadoError.self) { try Tensor([1], dtype: .bfloat16, device: device).elements(as: Float.self) }
        for dtype in DType.allCases {
            let full = try Tensor.full([3], value: 2, dtype: dtype, device: device)
            #expect(DTypeReference.decode(try full.storedBytes(), as: dtype) == [2, 2, 2], "full \(dtype)")
            #expect(DTypeReference.decode(try Tensor.zeros([2], dtype: dtype, device: device).storedBytes(), as: dtype) == [0, 0])
        }
    }

    @Test("to(dtype:) converts between every pair of types as the reference rules say", arguments: TestDevices.all)
    func conversions(device: Device) throws {
        for source in DType.allCases {
            let values = DTypeReference.samples(for: source)
            let tensor = try exactTensor(values, source, device: device)
            for target in DType.allCases {
                let converted = try tensor.to(dtype: target)
                #expect(converted.dtype == target && converted.shape == tensor.shape)
                let actual = DTypeReference.decode(try converted.storedBytes(), as: target)
                let expected = values.map { DTypeReference.convert($0, from: source, to: target) }
                let wrong = zip(zip(values, actual), expected).filter { !sameValue($0.1, $1) }
                #expect(wrong.isEmpty, "\(source) → \(target) on \(device): \(wrong.prefix(4).map { "\($0.0) gave \($0.1), expected \($1)" })")
            }
        }
    }

    @Test("strided copies and conversions respect the element width", arguments: TestDevices.all)
    func stridedCopies(device: Device) throws {
        // A 3 × 5 matrix of small integers, transposed (strided reads) and sliced, in every type.
        let values = (0..<15).map { Double($0 * 7 % 11) - 5 }
        let transposed = (0..<15).map { values[($0 % 3) * 5 + $0 / 3] }
        for source in DType.allCases where source != .uint8 {
            let matrix = try exactTensor(values, source, shape: [3, 5], device: device)
            for target in [source, .float32, .bfloat16, .int64] {
                // The same type: a strided bit copy; another: a strided conversion.
                let copied = try matrix.transposed().to(dtype: target).contiguous()
                #expect(DTypeReference.decode(try copied.storedBytes(), as: target) == transposed, "\(source) → \(target) transposed")
            }
            let column = try matrix.sliced(axis: 1, 1..<5, step: 2).contiguous()
            #expect(DTypeReference.decode(try column.storedBytes(), as: source) == [0, 2, 5, 7, 10, 12].map { values[$0 + 1] }, "\(source) slice")
            let joined = try Tensor.concat([matrix, matrix.sliced(axis: 0, 0..<1)], axis: 0)
            #expect(DTypeReference.decode(try joined.storedBytes(), as: source) == values + values.prefix(5), "\(source) concat")
            #expect(try matrix.to(.cpu).storedBytes() == matrix.storedBytes(), "\(source) to cpu")
        }
    }

    @Test("an op on a type the device does not run is an error naming the op, the type and the device",
          arguments: TestDevices.all)
    func unsupportedTypes(device: Device) throws {
        // Losses and optimizer updates run in float32 only (mixed precision converts the logits and
        // keeps float32 master weights).
        let halves = try Tensor([1, 2, 3, 4], shape: [2, 2], dtype: .bfloat16, device: device)
        let labels = try Tensor(indices: [0, 1], device: device)
        do {
            _ = try halves.crossEntropyPerRow(labels: labels)
            Issue.record("bfloat16 cross-entropy succeeded; expected an error")
        } catch let CortadoError.unsupportedDType(op, dtype, deviceID, supported) {
            #expect(op == "crossEntropy" && dtype == .bfloat16 && deviceID == device.id && supported == [.float32])
            #expect("\(CortadoError.unsupportedDType(op: op, dtype: dtype, device: deviceID, supported: supported))"
                .contains("crossEntropy does not support element type bfloat16 on \(device.id)"))
        }
        let state = [try Tensor.zeros([2, 2], dtype: .bfloat16, device: device)]
        #expect(throws: CortadoError.self) {
            try halves.applyUpdate(.adaGrad(learningRate: 0.1, epsilon: 1e-8, weightDecay: 0), gradient: halves, state: state)
        }
        let integers = try Tensor(elements: [Int8(1), 2], device: device)
        #expect(throws: CortadoError.self) { try integers.exp() }
        #expect(throws: CortadoError.self) { try integers + integers }
        // Mixed types in one op are an error unless converted first.
        let floats = try Tensor([1, 2, 3, 4], shape: [2, 2], device: device)
        do {
            _ = try floats + halves
            Issue.record("float32 + bfloat16 succeeded; expected an error")
        } catch let CortadoError.dtypeMismatch(op, dtypes) {
            #expect(op == "add" && dtypes == [.float32, .bfloat16])
        }
        assertClose(try (floats + halves.to(dtype: .float32)).toArray(), [2, 4, 6, 8])
    }

    @Test("gradients flow back through a conversion, in the source type", arguments: TestDevices.all)
    func gradientThroughConversion(device: Device) throws {
        let x = try Tensor([0.5, -1.25, 3], device: device).requiringGrad()
        let squares = try x.to(dtype: .bfloat16).square()
        #expect(squares.dtype == .bfloat16)
        try squares.to(dtype: .float32).sum().backward()
        let gradient = try #require(x.grad)
        #expect(gradient.dtype == .float32)
        #expect(try gradient.toArray() == [1, -2.5, 6])
        // No gradient through integers.
        let counted = try x.to(dtype: .int32)
        #expect(!counted.requiresGrad)
    }
}
