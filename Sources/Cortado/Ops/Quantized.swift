/// How a weight matrix is quantised to int8: symmetric (no zero point), with float32 scales.
public enum QuantizationScheme: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// One scale per output channel (row of the weight): `scale = max |w| / 127` over the row.
    case perChannel = "per-channel"
    /// One scale per block of 32 consecutive values of a row, as ggml's Q8_0.
    case q8_0 = "q8_0"

    /// The values of a row that share a scale, for rows of `columns` values.
    public func block(columns: Int) -> Int {
        switch self {
        case .perChannel: return max(columns, 1)
        case .q8_0: return min(32, max(columns, 1))
        }
    }

    /// Scales per row of `columns` values.
    public func blocks(columns: Int) -> Int {
        let block = block(columns: columns)
        return max(1, (columns + block - 1) / block)
    }

    /// The name used on the command line and in checkpoint metadata (`per-channel`, `q8_0`).
    public var description: String { rawValue }
}

/// A weight matrix `[rows, columns]` (one output channel per row) stored as symmetric int8 values
/// with float32 scales: `w[i, p] ≈ values[i, p] · scales[i, p / block]`.
public struct QuantizedMatrix: @unchecked Sendable {
    /// The int8 values, `[rows, columns]`.
    public let values: Tensor
    /// The float32 scales, `[rows, blocks]`.
    public let scales: Tensor
    /// How the scales are laid out.
    public let scheme: QuantizationScheme
    /// Static scales for the activations this weight multiplies, float32 `[blocks]` (one per block
    /// of the input's columns, shared by every row), from calibration; `nil`: dynamic (each row's
    /// blocks scaled by their own largest value at run time).
    public private(set) var inputScales: Tensor?
    /// SmoothQuant's smoothing, float32 `[columns]`: the activations' columns are multiplied by these
    /// before they are quantised, and the weight's columns were divided by them before it was (so the
    /// product is unchanged while a few large input channels stop setting every row's scale); `nil`:
    /// none. See ``init(quantizing:scheme:smoothing:strength:)``.
    public private(set) var inputMultipliers: Tensor?

    /// Output channels.
    public var rows: Int { values.shape[0] }
    /// Inputs per output channel.
    public var columns: Int { values.shape[1] }

    /// Quantises a float matrix `[rows, columns]` (any float type, on its own device): per row and
    /// block, `scale = max |w| / 127` and `values = round(w / scale)` to nearest even.
    public init(quantizing weight: Tensor, scheme: QuantizationScheme) throws {
        guard weight.rank == 2 else {
            throw CortadoError.shapeMismatch("QuantizedMatrix: a weight matrix is [rows, columns], not \(weight.shape)")
        }
        let (values, scales) = try weight.quantizedRows(block: scheme.block(columns: weight.shape[1]))
        self.values = values
        self.scales = scales
        self.scheme = scheme
    }

    /// Quantises a float matrix `[rows, columns]` after SmoothQuant's smoothing (Xiao et al., 2023):
    /// with `a[p]` the largest |x| calibration saw in input column `p` and `w[p]` the weight's
    /// largest |w| in that column, column `p` of the weight is multiplied by
    /// `s[p] = a[p]^strength / w[p]^(1 − strength)` (clamped to [1e-5, 1e5]; 1 for a column that is
    /// zero in either) and ``inputMultipliers`` become `1 / s`, which the row quantiser applies to
    /// the activations. `strength` 1 moves all of the activations' range into the weight, 0 all of
    /// the weight's range into the activations; SmoothQuant uses 0.5 for most models. Static
    /// ``inputScales`` would be calibrated on the smoothed activations: give one or the other.
    /// - Parameters:
    ///   - smoothing: float32 `[columns]`, the calibration's largest |x| per input column.
    /// - Throws: ``CortadoError`` when the shapes or types do not fit, `strength` is outside [0, 1],
    ///   or `smoothing` holds a negative or non-finite value.
    public init(quantizing weight: Tensor, scheme: QuantizationScheme, smoothing activationMaxima: Tensor, strength: Float) throws {
        guard weight.rank == 2 else {
            throw CortadoError.shapeMismatch("QuantizedMatrix: a weight matrix is [rows, columns], not \(weight.shape)")
        }
        guard activationMaxima.dtype == .float32, activationMaxima.shape == [weight.shape[1]] else {
            throw CortadoError.shapeMismatch(
                "QuantizedMatrix: smoothing maxima \(activationMaxima.dtype) \(activationMaxima.shape) for a weight \(weight.shape) (expected float32 [\(weight.shape[1])])")
        }
        guard strength >= 0, strength <= 1 else {
            throw CortadoError.invalidArgument("QuantizedMatrix: smoothing strength \(strength) is outside [0, 1]")
        }
        let maxima = try activationMaxima.toArray()
        guard maxima.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw CortadoError.invalidArgument("QuantizedMatrix: smoothing maxima must be finite and not negative")
        }
        let wide = try weight.to(dtype: .float32)
        let weightMaxima = try wide.abs().max(axes: [0]).toArray()
        // A column that is zero in either gets 1 (log 1 = 0 on both sides).
        let usable = zip(maxima, weightMaxima).map { a, w in a > 0 && w > 0 && w.isFinite }
        let columns = weight.shape[1]
        let logA = try Tensor(zip(maxima, usable).map { $1 ? $0 : 1 }, shape: [columns], device: .cpu).log()
        let logW = try Tensor(zip(weightMaxima, usable).map { $1 ? $0 : 1 }, shape: [columns], device: .cpu).log()
        let factors = try (logA * strength - logW * (1 - strength)).exp().toArray().map { Swift.min(Swift.max($0, 1e-5), 1e5) }
        let s = try Tensor(factors, shape: [1, columns], device: weight.device)
        try self.init(quantizing: wide * s.expanded(to: wide.shape), scheme: scheme)
        inputMultipliers = try Tensor(factors.map { 1 / $0 }, shape: [columns], device: weight.device)
    }

    /// Wraps stored int8 `values` `[rows, columns]` and float32 `scales` `[rows, blocks]` (as read
    /// from a checkpoint), checking their types and shapes against `scheme`.
    public init(values: Tensor, scales: Tensor, scheme: QuantizationScheme) throws {
        guard values.dtype == .int8, values.rank == 2 else {
            throw CortadoError.invalidArgument("QuantizedMatrix: values must be an int8 matrix, not \(values.dtype) \(values.shape)")
        }
        let expected = [values.shape[0], scheme.blocks(columns: values.shape[1])]
        guard scales.dtype == .float32, scales.shape == expected else {
            throw CortadoError.shapeMismatch(
                "QuantizedMatrix: scales \(scales.dtype) \(scales.shape) for \(scheme) values \(values.shape) (expected float32 \(expected))")
        }
        try values.checkSameDevice("QuantizedMatrix", scales)
        self.values = try values.dense()
        self.scales = try scales.dense()
        self.scheme = scheme
    }

    /// The float32 matrix these values and scales stand for (with ``inputMultipliers``, the weight
    /// before smoothing: each column multiplied by its multiplier again).
    public func dequantized() throws -> Tensor {
        let scaled = try scaledValues()
        guard let inputMultipliers else { return scaled }
        return try scaled * inputMultipliers.reshaped([1, columns]).expanded(to: [rows, columns])
    }

    /// The values times their scales.
    private func scaledValues() throws -> Tensor {
        let block = scheme.block(columns: columns), blocks = scheme.blocks(columns: columns)
        let wide = try values.to(dtype: .float32)
        if blocks == 1 { return try wide * scales.expanded(to: [rows, columns]) }
        // Pad each row to whole blocks, scale them, then drop the padding.
        let padded = blocks * block
        var rowsOfBlocks = wide
        if padded != columns {
            rowsOfBlocks = try Tensor.concat([wide, try Tensor.zeros([rows, padded - columns], device: values.device)], axis: 1)
        }
        let scaled = try rowsOfBlocks.reshaped([rows, blocks, block]) * scales.reshaped([rows, blocks, 1]).expanded(to: [rows, blocks, block])
        return try scaled.reshaped([rows, padded]).sliced(axis: 1, 0..<columns).contiguous()
    }

    /// This matrix on `device`.
    public func to(_ device: Device) throws -> QuantizedMatrix {
        try QuantizedMatrix(values: values.to(device), scales: scales.to(device), scheme: scheme)
            .withInputScales(inputScales?.to(device)).withInputMultipliers(inputMultipliers?.to(device))
    }

    /// This matrix with SmoothQuant's column multipliers for its activations (float32 `[columns]`,
    /// positive and finite, on the matrix's device; as stored with a weight that was smoothed), or
    /// none for `nil`.
    /// - Throws: ``CortadoError`` when the shape, type or a value does not fit.
    public func withInputMultipliers(_ multipliers: Tensor?) throws -> QuantizedMatrix {
        var copy = self
        guard let multipliers else {
            copy.inputMultipliers = nil
            return copy
        }
        guard multipliers.dtype == .float32, multipliers.shape == [columns] else {
            throw CortadoError.shapeMismatch(
                "QuantizedMatrix: input multipliers \(multipliers.dtype) \(multipliers.shape) for \(columns) columns (expected float32 [\(columns)])")
        }
        try values.checkSameDevice("QuantizedMatrix", multipliers)
        guard try multipliers.toArray().allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw CortadoError.invalidArgument("QuantizedMatrix: input multipliers must be positive and finite")
        }
        copy.inputMultipliers = try multipliers.dense()
        return copy
    }

    /// This matrix with static activation scales `scales` (float32 `[blocks]`, all positive and
    /// finite; on the matrix's device), or dynamic ones for `nil`.
    /// - Throws: ``CortadoError`` when the shape, type or a value does not fit.
    public func withInputScales(_ scales: Tensor?) throws -> QuantizedMatrix {
        var copy = self
        guard let scales else {
            copy.inputScales = nil
            return copy
        }
        let blocks = scheme.blocks(columns: columns)
        guard scales.dtype == .float32, scales.shape == [blocks] else {
            throw CortadoError.shapeMismatch("QuantizedMatrix: input scales \(scales.dtype) \(scales.shape) for \(blocks) blocks (expected float32 [\(blocks)])")
        }
        try values.checkSameDevice("QuantizedMatrix", scales)
        guard try scales.toArray().allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw CortadoError.invalidArgument("QuantizedMatrix: input scales must be positive and finite")
        }
        copy.inputScales = try scales.dense()
        return copy
    }

    /// Bytes of storage: the int8 values and the float32 scales (weight and static input scales) and
    /// input multipliers.
    public var byteCount: Int {
        values.count + 4 * (scales.count + (inputScales?.count ?? 0) + (inputMultipliers?.count ?? 0))
    }
}

extension Tensor {
    /// Symmetric int8 quantisation of the rows of a matrix `[rows, columns]` per block of `block`
    /// values (`block ≥ columns`: one scale per row): `scale = max |x| / 127`, `values = round(x /
    /// scale)` to nearest even in [−127, 127]; an all-zero block has scale 0. With `fixed` (float32
    /// `[⌈columns / block⌉]`, static scales from calibration) every row's block `b` uses `fixed[b]`
    /// instead and larger values saturate. With `multipliers` (float32 `[columns]`, SmoothQuant's
    /// smoothing) each row is multiplied by them column by column first. A block holding a NaN gets a
    /// NaN scale. Not differentiable.
    /// - Returns: int8 `values` `[rows, columns]` and float32 `scales` `[rows, ⌈columns / block⌉]`.
    public func quantizedRows(block: Int, fixed: Tensor? = nil, multipliers: Tensor? = nil) throws -> (values: Tensor, scales: Tensor) {
        guard rank == 2, block > 0, block >= shape[1] || block % 4 == 0 else {
            throw CortadoError.invalidArgument("quantizedRows: a matrix and a block of k or a multiple of 4, not \(shape) and \(block)")
        }
        let (rows, columns) = (shape[0], shape[1])
        let width = Swift.min(block, Swift.max(columns, 1))
        let blocks = Swift.max(1, (columns + width - 1) / width)
        if let fixed {
            guard fixed.dtype == .float32, fixed.shape == [blocks] else {
                throw CortadoError.shapeMismatch("quantizedRows: static scales \(fixed.dtype) \(fixed.shape) for \(blocks) blocks (expected float32 [\(blocks)])")
            }
            try checkSameDevice("quantizedRows", fixed)
        }
        if let multipliers {
            guard multipliers.dtype == .float32, multipliers.shape == [columns] else {
                throw CortadoError.shapeMismatch("quantizedRows: multipliers \(multipliers.dtype) \(multipliers.shape) for \(columns) columns (expected float32 [\(columns)])")
            }
            try checkSameDevice("quantizedRows", multipliers)
        }
        try backend.require(.quantizeRows, .float32, "quantizedRows")
        let x = dtype == .float32 ? try dense() : try to(dtype: .float32)
        let values = try Tensor.empty([rows, columns], dtype: .int8, on: backend)
        let scales = try Tensor.empty([rows, blocks], dtype: .float32, on: backend)
        if columns == 0 {
            try backend.fill(scales.buffer, offset: 0, count: scales.count, value: 0)
        } else {
            try backend.quantizeRows(
                x.buffer, rows: rows, width: columns, block: width, fixed: try fixed?.dense().buffer,
                multipliers: try multipliers?.dense().buffer, into: values.buffer, scales: scales.buffer)
        }
        return (values, scales)
    }

    /// `self · weightᵀ + bias` with an int8 weight, PyTorch's dynamic quantised `linear`: the rows of
    /// `self` `[…, inputs]` are quantised to int8 at run time (per row, or per block of 32 for a
    /// Q8_0 weight; with the weight's static ``QuantizedMatrix/inputScales`` instead when it has
    /// them; after multiplying them by the weight's ``QuantizedMatrix/inputMultipliers`` when it has
    /// them), multiplied with int32 sums and scaled back to float32. Not differentiable.
    /// - Parameters:
    ///   - weight: `[outputs, inputs]`, int8 with scales.
    ///   - bias: float32 `[outputs]`.
    public func quantizedLinear(_ weight: QuantizedMatrix, bias: Tensor? = nil) throws -> Tensor {
        guard rank >= 1, shape[rank - 1] == weight.columns else {
            throw CortadoError.shapeMismatch("quantizedLinear: input \(shape) and weight \(weight.values.shape) (expected [outputs, \(shape.last ?? 0)])")
        }
        try checkSameDevice("quantizedLinear", weight.values, weight.scales)
        if let bias {
            try checkSameDevice("quantizedLinear", bias)
            guard bias.shape == [weight.rows], bias.dtype == .float32 else {
                throw CortadoError.shapeMismatch("quantizedLinear: bias \(bias.dtype) \(bias.shape) for \(weight.rows) float32 outputs")
            }
        }
        try backend.require(.quantizedGemm, .int8, "quantizedLinear")
        let rows = shape.dropLast().reduce(1, *)
        let (q, scales) = try reshaped([rows, weight.columns]).quantizedRows(
            block: weight.scheme.block(columns: weight.columns), fixed: weight.inputScales, multipliers: weight.inputMultipliers)
        let out = try Tensor.empty([rows, weight.rows], dtype: .float32, on: backend)
        let b = try bias?.dense()
        try backend.quantizedGemm(
            QuantizedGemmDescriptor(m: rows, n: weight.rows, k: weight.columns, block: weight.scheme.block(columns: weight.columns)),
            q.buffer, aScales: scales.buffer, weight.values.buffer, wScales: weight.scales.buffer, bias: b?.buffer, into: out.buffer)
        let result = try out.reshaped(shape.dropLast() + [weight.rows])
        return dtype == .float32 ? result : try result.to(dtype: dtype)
    }

    /// 2-D convolution of NCHW input with an int8 OIHW weight flattened to `[outChannels,
    /// inChannels·kernelHeight·kernelWidth]`: im2col, the patches quantised per output position,
    /// one int8 GEMM, float32 NCHW output. Not differentiable.
    /// - Parameters:
    ///   - weight: the quantised `[outChannels, inChannels·kernel.height·kernel.width]`.
    ///   - kernel: the kernel's `(height, width)`.
    ///   - bias: float32 `[outChannels]`.
    public func quantizedConv2d(
        weight: QuantizedMatrix, kernel: Size2D, bias: Tensor? = nil, stride: Size2D = 1, padding: Size2D = 0,
        dilation: Size2D = 1
    ) throws -> Tensor {
        guard rank == 4, kernel.height > 0, kernel.width > 0, weight.columns == shape[1] * kernel.height * kernel.width else {
            throw CortadoError.shapeMismatch(
                "quantizedConv2d: input \(shape) (NCHW) and weight \(weight.values.shape) for a \(kernel) kernel do not match")
        }
        try requireSupport(.im2col, "quantizedConv2d")
        guard stride.height > 0, stride.width > 0, dilation.height > 0, dilation.width > 0,
              padding.height >= 0, padding.width >= 0
        else {
            throw CortadoError.invalidArgument("quantizedConv2d: stride \(stride), padding \(padding), dilation \(dilation)")
        }
        let g = ConvGeometry(
            batch: shape[0], channels: shape[1], height: shape[2], width: shape[3],
            kernelHeight: kernel.height, kernelWidth: kernel.width, strideY: stride.height, strideX: stride.width,
            padY: padding.height, padX: padding.width, dilationY: dilation.height, dilationX: dilation.width)
        let spanY = dilation.height * (g.kernelHeight - 1) + 1, spanX = dilation.width * (g.kernelWidth - 1) + 1
        guard g.height + 2 * g.padY >= spanY, g.width + 2 * g.padX >= spanX, g.outHeight > 0, g.outWidth > 0 else {
            throw CortadoError.shapeMismatch("quantizedConv2d: kernel \(kernel) does not fit input \(shape) with padding \(padding)")
        }
        let x = try dense()
        let (plane, patch) = (g.outputPlane, g.patchSize)
        let cols = try Tensor.empty([g.batch, patch, plane], dtype: dtype, on: backend)
        try backend.im2col(x.buffer, g, into: cols.buffer)
        // One row of the activations per output position: [batch·plane, patch].
        let patches = try cols.transposed(1, 2).reshaped([g.batch * plane, patch])
        let out = try patches.quantizedLinear(weight, bias: bias)  // [batch·plane, outChannels]
        return try out.reshaped([g.batch, plane, weight.rows]).transposed(1, 2).contiguous()
            .reshaped([g.batch, weight.rows, g.outHeight, g.outWidth])
    }
}
