extension Tensor {
    /// A tensor holding `values` in row-major order, converted to `dtype` (`float32` by default;
    /// rounding to nearest even for the 16-bit floats, toward zero with saturation for integers).
    /// - Parameter device: where to put it; the scoped default device when `nil`.
    public convenience init(_ values: [Float], shape: [Int]? = nil, dtype: DType = .float32, device: Device? = nil) throws {
        if dtype == .float32 {
            try self.init(bytesOf: values, shape: shape ?? [values.count], dtype: .float32, device: device)
            return
        }
        var bytes = [UInt8](repeating: 0, count: values.count * dtype.byteSize)
        values.withUnsafeBufferPointer { source in
            bytes.withUnsafeMutableBytes { target in
                guard let from = source.baseAddress, let to = target.baseAddress else { return }
                ElementAccess.storeFloats(from, count: source.count, as: dtype, to, at: 0, step: 1)
            }
        }
        try self.init(storedBytes: bytes, shape: shape ?? [values.count], dtype: dtype, device: device)
    }

    /// A tensor of `T`'s element type holding `values` exactly, in row-major order.
    /// - Parameter device: where to put it; the scoped default device when `nil`.
    public convenience init<T: TensorElement>(elements values: [T], shape: [Int]? = nil, device: Device? = nil) throws {
        try self.init(bytesOf: values, shape: shape ?? [values.count], dtype: T.dtype, device: device)
    }

    /// A tensor whose elements are `bytes` as stored (little-endian, row-major), as read from a file.
    package convenience init(storedBytes bytes: some Collection<UInt8>, shape: [Int], dtype: DType, device: Device?) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) * dtype.byteSize == bytes.count else {
            throw CortadoError.shapeMismatch("\(bytes.count / dtype.byteSize) values cannot fill shape \(shape)")
        }
        let backend = try DeviceRegistry.shared.backend(for: device ?? DefaultDevice.current)
        let tensor = try Tensor.empty(shape, dtype: dtype, on: backend)
        try Array(bytes).withUnsafeBytes { try backend.write($0, to: tensor.buffer, atByte: 0) }
        self.init(buffer: tensor.buffer, backend: backend, shape: shape, strides: tensor.strides, offset: 0, dtype: dtype)
    }

    /// An `int32` tensor of indices (class labels, token ids) in row-major order.
    public convenience init(indices values: [Int32], shape: [Int]? = nil, device: Device? = nil) throws {
        try self.init(bytesOf: values, shape: shape ?? [values.count], dtype: .int32, device: device)
    }

    private convenience init<Element>(bytesOf values: [Element], shape: [Int], dtype: DType, device: Device?) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == values.count else {
            throw CortadoError.shapeMismatch("\(values.count) values cannot fill shape \(shape)")
        }
        let backend = try DeviceRegistry.shared.backend(for: device ?? DefaultDevice.current)
        let tensor = try Tensor.empty(shape, dtype: dtype, on: backend)
        try values.withUnsafeBytes { try backend.write($0, to: tensor.buffer, atByte: 0) }
        self.init(buffer: tensor.buffer, backend: backend, shape: shape, strides: tensor.strides, offset: 0, dtype: dtype)
    }

    /// A rank-0 tensor holding one value.
    public static func scalar(_ value: Float, device: Device? = nil) throws -> Tensor {
        try Tensor([value], shape: [], device: device)
    }

    /// A tensor with every element equal to `value` converted to `dtype`.
    public static func full(_ shape: [Int], value: Float, dtype: DType = .float32, device: Device? = nil) throws -> Tensor {
        let backend = try DeviceRegistry.shared.backend(for: device ?? DefaultDevice.current)
        let tensor = try empty(shape, dtype: dtype, on: backend)
        try backend.fill(tensor.buffer, offset: 0, count: tensor.count, value: Double(value))
        return tensor
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device? = nil) throws -> Tensor {
        try full(shape, value: 0, dtype: dtype, device: device)
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device? = nil) throws -> Tensor {
        try full(shape, value: 1, dtype: dtype, device: device)
    }

    /// Zeros with this tensor's shape, element type and device.
    public func zerosLike() throws -> Tensor {
        try Tensor.full(shape, value: 0, dtype: dtype, device: device)
    }

    /// `[0, 1, …, count − 1]` as `float32`.
    public static func arange(_ count: Int, device: Device? = nil) throws -> Tensor {
        try Tensor((0..<count).map(Float.init), shape: [count], device: device)
    }

    /// Uniform random numbers on `[low, high)`; every device yields the same numbers for the same
    /// generator state.
    /// - Parameter generator: the stream to draw from; ``Random/global`` when `nil`.
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, device: Device? = nil, generator: RandomGenerator? = nil
    ) throws -> Tensor {
        try random(shape, .uniform(low: low, high: high), device: device, generator: generator)
    }

    /// Normally distributed random numbers (Box–Muller over the same stream as ``uniform(_:low:high:device:generator:)``).
    /// - Parameter generator: the stream to draw from; ``Random/global`` when `nil`.
    public static func normal(
        _ shape: [Int], mean: Float = 0, std: Float = 1, device: Device? = nil, generator: RandomGenerator? = nil
    ) throws -> Tensor {
        try random(shape, .normal(mean: mean, std: std), device: device, generator: generator)
    }

    /// `value` with probability `probability`, else 0, elementwise (`torch.bernoulli` of a constant
    /// probability, scaled): ``Dropout``'s mask in one pass. Same stream as ``uniform(_:low:high:device:generator:)``.
    /// - Parameter generator: the stream to draw from; ``Random/global`` when `nil`.
    public static func bernoulli(
        _ shape: [Int], probability: Float, value: Float = 1, device: Device? = nil, generator: RandomGenerator? = nil
    ) throws -> Tensor {
        guard probability >= 0, probability <= 1 else {
            throw CortadoError.invalidArgument("bernoulli: probability \(probability) must be in [0, 1]")
        }
        return try random(shape, .bernoulli(probability: probability, value: value), device: device, generator: generator)
    }

    private static func random(
        _ shape: [Int], _ distribution: Distribution, device: Device?, generator: RandomGenerator?
    ) throws -> Tensor {
        let backend = try DeviceRegistry.shared.backend(for: device ?? DefaultDevice.current)
        let tensor = try empty(shape, on: backend)
        let (seed, counter) = (generator ?? Random.global).reserve(distribution.blocks(for: tensor.count))
        try backend.random(distribution, seed: seed, counter: counter, into: tensor.buffer, offset: 0, count: tensor.count)
        return tensor
    }
}
