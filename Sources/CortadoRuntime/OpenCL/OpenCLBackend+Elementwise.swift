import COpenCL

extension OpenCLBackend {
    package func copy(_ source: StridedView, to destination: StridedView) throws {
        precondition(source.shape == destination.shape, "copy between different shapes")
        let count = destination.count
        guard count > 0 else { return }
        if source.isContiguous && destination.isContiguous {
            let status = clEnqueueCopyBuffer(
                queue, source.buffer.handle.memory, destination.buffer.handle.memory,
                source.offset * 4, destination.offset * 4, count * 4, 0, nil, nil)
            try clCheck(status, "clEnqueueCopyBuffer", device: device)
            return
        }
        try launchStrided(shape: destination.shape, operands: [source, destination]) { shape, strides, offsets, n in
            try launch(.elementwise, "copy_strided", global: [n], local: [parameters.elementwiseWorkGroup], [
                .buffer(source.buffer), .int(offsets[0]), .ints(strides[0]),
                .buffer(destination.buffer), .int(offsets[1]), .ints(strides[1]), .ints(shape), .int(n),
            ])
        }
    }

    package func unary(_ op: UnaryOp, _ x: StridedView, into out: StridedView) throws {
        let (name, scalar) = op.kernel
        let n = out.count
        let group = parameters.elementwiseWorkGroup
        if x.isContiguous && out.isContiguous {
            try checkIndexable(n)
            try launch(.elementwise, "unary_\(name)_contiguous", global: [n], local: [group], [
                .buffer(x.buffer), .int(x.offset), .buffer(out.buffer), .int(out.offset), .int(n), .float(scalar),
            ])
            return
        }
        try launchStrided(shape: out.shape, operands: [x, out]) { shape, strides, offsets, n in
            try launch(.elementwise, "unary_\(name)_strided", global: [n], local: [group], [
                .buffer(x.buffer), .int(offsets[0]), .ints(strides[0]),
                .buffer(out.buffer), .int(offsets[1]), .ints(strides[1]), .ints(shape), .int(n), .float(scalar),
            ])
        }
    }

    package func binary(_ op: BinaryOp, _ a: StridedView, _ b: StridedView, into out: StridedView) throws {
        let name = op.kernelName
        let n = out.count
        let group = parameters.elementwiseWorkGroup
        let sameLayout = { (v: StridedView) in v.shape == out.shape && v.isContiguous }
        if sameLayout(a) && sameLayout(b) && out.isContiguous {
            try checkIndexable(n)
            try launch(.elementwise, "binary_\(name)_contiguous", global: [n], local: [group], [
                .buffer(a.buffer), .int(a.offset), .buffer(b.buffer), .int(b.offset),
                .buffer(out.buffer), .int(out.offset), .int(n),
            ])
            return
        }
        try launchStrided(shape: out.shape, operands: [a, b, out]) { shape, strides, offsets, n in
            try launch(.elementwise, "binary_\(name)_strided", global: [n], local: [group], [
                .buffer(a.buffer), .int(offsets[0]), .ints(strides[0]),
                .buffer(b.buffer), .int(offsets[1]), .ints(strides[1]),
                .buffer(out.buffer), .int(offsets[2]), .ints(strides[2]), .ints(shape), .int(n),
            ])
        }
    }

    /// Kernels index with 32-bit integers.
    func checkIndexable(_ count: Int) throws {
        guard count < Int(Int32.max) else {
            throw CortadoError.invalidArgument("\(count) elements exceed the 2³¹ − 1 that OpenCL kernels index")
        }
    }

    /// Calls `body` with the operands' merged shape and strides packed as `int8` vectors (outermost
    /// first, padded in front), splitting the work along the outermost dimension when more than six
    /// dimensions remain after merging.
    func launchStrided(
        shape: [Int], operands: [StridedView],
        _ body: (_ shape: [Int32], _ strides: [[Int32]], _ offsets: [Int], _ count: Int) throws -> Void
    ) throws {
        let merged = Layout.coalesce(shape: shape, strides: operands.map(\.strides))
        try launchStrided(
            shape: merged.shape, strides: merged.strides, offsets: operands.map(\.offset), body)
    }

    private func launchStrided(
        shape: [Int], strides: [[Int]], offsets: [Int],
        _ body: (_ shape: [Int32], _ strides: [[Int32]], _ offsets: [Int], _ count: Int) throws -> Void
    ) throws {
        if shape.count > 6 {
            for i in 0..<shape[0] {
                try launchStrided(
                    shape: Array(shape.dropFirst()), strides: strides.map { Array($0.dropFirst()) },
                    offsets: zip(offsets, strides).map { $0 + i * $1[0] }, body)
            }
            return
        }
        let count = shape.reduce(1, *)
        try checkIndexable(count)
        let pad = 6 - shape.count
        let shape8 = (Array(repeating: 1, count: pad) + shape + [1, 1]).map { Int32($0) }
        let strides8 = strides.map { (Array(repeating: 0, count: pad) + $0 + [0, 0]).map { Int32($0) } }
        try body(shape8, strides8, offsets, count)
    }
}
