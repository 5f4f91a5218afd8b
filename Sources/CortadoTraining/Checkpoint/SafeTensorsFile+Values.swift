extension SafeTensorsFile {
    /// The values of tensor `name` as `Float`s, in row-major order.
    ///
    /// `F32` is returned bit for bit; `F16` and `BF16` are widened exactly; `F64` is rounded to the
    /// nearest `Float` (values beyond `Float`'s range become infinities).
    /// - Throws: ``CheckpointError`` when the file has no such tensor or it holds integers.
    public func floats(_ name: String) throws -> [Float] {
        let entry = try requireInfo(name)
        let bytes = bytes(of: entry)
        switch entry.dtype {
        case .float32: return decode(bytes, as: UInt32.self) { Float(bitPattern: $0) }
        case .float16: return decode(bytes, as: UInt16.self, floatFromHalf)
        case .bfloat16: return decode(bytes, as: UInt16.self) { Float(bitPattern: UInt32($0) << 16) }
        case .float64: return decode(bytes, as: UInt64.self) { Float(Double(bitPattern: $0)) }
        default:
            throw CheckpointError(url, "tensor '\(name)' has dtype \(entry.dtype), which cannot be read as floats"
                                  + (entry.dtype.cortadoDType?.isFloatingPoint == false ? " (read it as integers)" : ""))
        }
    }

    /// The values of tensor `name` as `Int32`s, in row-major order.
    ///
    /// `I32` is returned as stored; `I8`, `U8`, `I16`, `U16` and `BOOL` (as 0 or 1) are widened;
    /// `U32`, `I64` and `U64` are converted when every value fits in `Int32`.
    /// - Throws: ``CheckpointError`` when the file has no such tensor, it holds floats, or a value
    ///   does not fit (the message gives its position and value).
    public func int32s(_ name: String) throws -> [Int32] {
        let entry = try requireInfo(name)
        let bytes = bytes(of: entry)
        switch entry.dtype {
        case .int32: return decode(bytes, as: UInt32.self) { Int32(bitPattern: $0) }
        case .int16: return decode(bytes, as: UInt16.self) { Int32(Int16(bitPattern: $0)) }
        case .uint16: return decode(bytes, as: UInt16.self) { Int32($0) }
        case .int8: return decode(bytes, as: UInt8.self) { Int32(Int8(bitPattern: $0)) }
        case .uint8: return decode(bytes, as: UInt8.self) { Int32($0) }
        case .bool: return decode(bytes, as: UInt8.self) { $0 == 0 ? 0 : 1 }
        case .uint32: return try narrowed(decode(bytes, as: UInt32.self) { $0 }, name)
        case .int64: return try narrowed(decode(bytes, as: UInt64.self) { Int64(bitPattern: $0) }, name)
        case .uint64: return try narrowed(decode(bytes, as: UInt64.self) { $0 }, name)
        default:
            throw CheckpointError(url, "tensor '\(name)' has dtype \(entry.dtype), which cannot be read as integers"
                                  + (entry.dtype.cortadoDType?.isFloatingPoint == true ? " (read it as floats)" : ""))
        }
    }

    private func narrowed<Wide: BinaryInteger>(_ values: [Wide], _ name: String) throws -> [Int32] {
        var result: [Int32] = []
        result.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            guard let narrow = Int32(exactly: value) else {
                throw CheckpointError(url, "tensor '\(name)' element \(index) is \(value), which does not fit in Int32")
            }
            result.append(narrow)
        }
        return result
    }
}

/// Reads consecutive little-endian `Word`s from `bytes` and maps each through `transform`.
private func decode<Word: FixedWidthInteger, Value>(
    _ bytes: ArraySlice<UInt8>, as word: Word.Type, _ transform: (Word) -> Value
) -> [Value] {
    let stride = MemoryLayout<Word>.size
    return bytes.withUnsafeBytes { raw in
        (0..<(raw.count / stride)).map { index in
            transform(Word(littleEndian: raw.loadUnaligned(fromByteOffset: index * stride, as: Word.self)))
        }
    }
}

/// Widens IEEE 754 half-precision bits to the `Float` of the same value.
private func floatFromHalf(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10 & 0x1F)
    let mantissa = UInt32(bits & 0x3FF)
    switch exponent {
    case 0x1F:
        return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
    case 0:
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    default:
        return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
    }
}
