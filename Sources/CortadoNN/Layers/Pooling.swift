/// 2-D max pooling over NCHW input.
public final class MaxPool2D: Module {
    /// Window size.
    public let kernelSize: Size2D
    /// Step between windows (the kernel size by default).
    public let stride: Size2D
    /// Padding on each side (never wins the max).
    public let padding: Size2D
    /// Training or evaluation mode (no effect).
    public var isTraining = true

    /// Creates the layer; `stride` defaults to `kernelSize`.
    public init(_ kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    /// Pools `x`.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.maxPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// 2-D average pooling over NCHW input (padding counts as zeros).
public final class AvgPool2D: Module {
    /// Window size.
    public let kernelSize: Size2D
    /// Step between windows (the kernel size by default).
    public let stride: Size2D
    /// Padding on each side.
    public let padding: Size2D
    /// Training or evaluation mode (no effect).
    public var isTraining = true

    /// Creates the layer; `stride` defaults to `kernelSize`.
    public init(_ kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    /// Pools `x`.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.avgPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// Flattens every dimension from `startAxis` on (by default all but the batch dimension).
public final class Flatten: Module {
    /// The first dimension merged.
    public let startAxis: Int
    /// Training or evaluation mode (no effect).
    public var isTraining = true

    /// Creates the layer.
    public init(startAxis: Int = 1) {
        self.startAxis = startAxis
    }

    /// `x` reshaped to `[d0, …, d(start−1), rest]`.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.flattened(from: startAxis)
    }
}
