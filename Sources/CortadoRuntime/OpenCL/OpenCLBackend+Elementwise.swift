import COpenCL

extension OpenCLBackend {
    package func copy(_ source: StridedView, to destination: StridedView) throws {
        precondition(source.shape == destination.shape, "copy between different shapes")
        let count = destination.count
        guard count > 0 else { return }
        let family = KernelFamily.copy(from: source.dtype, to: destination.dtype)
        if source.isContiguous && destination.isContiguous {
            if source.dtype == destination.dtype {
                let width = source.dtype.byteSize
                let status = clEnqueueCopyBuffer(
                    queue, source.buffer.handle.memory, destination.buffer.handle.memory,
                    source.offset * width, destination.offset * width, count * width, 0, nil, nil)
                try clCheck(status, failure("clEnqueueCopyBuffer", bytes: count * width))
                return
            }
            try checkIndexable(count)
            try launch(family, "copy_contiguous", global: [count], local: [parameters.elementwiseWorkGroup], [
                .buffer(source.buffer), .int(source.offset), .buffer(destination.buffer), .int(destination.offset), .int(count),
            ])
            return
        }
        try launchStrided(shape: destination.shape, operands: [source, destination]) { shape, strides, offsets, range in
            try launch(family, "copy_strided", global: range.global, local: range.local, [
                .buffer(source.buffer), .int(offsets[0]), .ints(strides[0]),
                .buffer(destination.buffer), .int(offsets[1]), .ints(strides[1]), .ints(shape),
            ])
        }
    }

    package func unary(_ op: UnaryOp, _ x: StridedView, into out: StridedView) throws {
        let (name, scalar) = op.kernel
        let n = out.count
        let group = parameters.elementwiseWorkGroup
        if x.isContiguous && out.isContiguous {
            try checkIndexable(n)
            let (kernel, items) = contiguousLaunch(n, out.dtype, offsets: [x.offset, out.offset])
            try launch(.elementwise(out.dtype), "unary_\(name)_\(kernel)", global: [items], local: [group], [
                .buffer(x.buffer), .int(x.offset), .buffer(out.buffer), .int(out.offset), .int(n), .float(scalar),
            ])
            return
        }
        try launchStrided(shape: out.shape, operands: [x, out]) { shape, strides, offsets, range in
            try launch(.elementwise(out.dtype), "unary_\(name)_strided", global: range.global, local: range.local, [
                .buffer(x.buffer), .int(offsets[0]), .ints(strides[0]),
                .buffer(out.buffer), .int(offsets[1]), .ints(strides[1]), .ints(shape), .float(scalar),
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
            let (kernel, items) = contiguousLaunch(n, out.dtype, offsets: [a.offset, b.offset, out.offset])
            try launch(.elementwise(out.dtype), "binary_\(name)_\(kernel)", global: [items], local: [group], [
                .buffer(a.buffer), .int(a.offset), .buffer(b.buffer), .int(b.offset),
                .buffer(out.buffer), .int(out.offset), .int(n),
            ])
            return
        }
        try launchStrided(shape: out.shape, operands: [a, b, out]) { shape, strides, offsets, range in
            try launch(.elementwise(out.dtype), "binary_\(name)_strided", global: range.global, local: range.local, [
                .buffer(a.buffer), .int(offsets[0]), .ints(strides[0]),
                .buffer(b.buffer), .int(offsets[1]), .ints(strides[1]),
                .buffer(out.buffer), .int(offsets[2]), .ints(strides[2]), .ints(shape),
            ])
        }
    }

    /// Which contiguous elementwise kernel covers `n` elements of `storage` (`vector` when every
    /// operand offset is a multiple of the vector width, else `contiguous`) and its work-items.
    private func contiguousLaunch(_ n: Int, _ storage: DType, offsets: [Int]) -> (kernel: String, items: Int) {
        let width = parameters.contiguousVectorWidth(storage)
        if width > 1 && offsets.allSatisfy({ $0 % width == 0 }) {
            return ("vector", n / width + n % width)
        }
        let perItem = parameters.contiguousElementsPerItem(storage)
        return ("contiguous", (n + perItem - 1) / perItem)
    }

    /// Kernels index with 32-bit integers.
    func checkIndexable(_ count: Int) throws {
        guard count < Int(Int32.max) else {
            throw CortadoError.invalidArgument("\(count) elements exceed the 2³¹ − 1 that OpenCL kernels index")
        }
    }

    /// The 3-D range of a strided launch (see `Kernels/common.cl`): id 0 over the innermost extent
    /// (or extent 1 when each work-item loops over a row), id 1 over the next, id 2 over the rest.
    /// Element-per-item work-groups span the innermost dimension when it is long enough and fill up
    /// along the next one when it is short (a power-of-two split, so few local sizes occur).
    struct StridedRange {
        let global: [Int]
        let local: [Int]

        init(shape8: [Int32], mapping: KernelParameters.StridedMapping, workGroup: Int) {
            let inner = Int(shape8[5]), next = Int(shape8[4])
            let rest = shape8[0..<4].reduce(1) { $0 * Int($1) }
            switch mapping {
            case .rowPerWorkItem:
                global = [1, next, rest]
                local = [1, 1, 1]
            case .elementPerWorkItem:
                var x = 1
                while x < inner && x < workGroup { x *= 2 }
                global = [inner, next, rest]
                local = [x, workGroup / x, 1]
            }
        }
    }

    /// Calls `body` with the operands' merged shape and strides packed as `int8` vectors (outermost
    /// first, padded in front), splitting the work along the outermost dimension when more than six
    /// dimensions remain after merging.
    func launchStrided(
        shape: [Int], operands: [StridedView],
        _ body: (_ shape: [Int32], _ strides: [[Int32]], _ offsets: [Int], _ range: StridedRange) throws -> Void
    ) throws {
        let merged = Layout.coalesce(shape: shape, strides: operands.map(\.strides))
        try launchStrided(
            shape: merged.shape, strides: merged.strides, offsets: operands.map(\.offset), body)
    }

    private func launchStrided(
        shape: [Int], strides: [[Int]], offsets: [Int],
        _ body: (_ shape: [Int32], _ strides: [[Int32]], _ offsets: [Int], _ range: StridedRange) throws -> Void
    ) throws {
        if shape.count > 6 {
            for i in 0..<shape[0] {
                try launchStrided(
                    shape: Array(shape.dropFirst()), strides: strides.map { Array($0.dropFirst()) },
                    offsets: zip(offsets, strides).map { $0 + i * $1[0] }, body)
            }
            return
        }
        try checkIndexable(shape.reduce(1, *))
        let pad = 6 - shape.count
        let shape8 = (Array(repeating: 1, count: pad) + shape + [1, 1]).map { Int32($0) }
        let strides8 = strides.map { (Array(repeating: 0, count: pad) + $0 + [0, 0]).map { Int32($0) } }
        try body(shape8, strides8, offsets, StridedRange(
            shape8: shape8, mapping: parameters.stridedMapping, workGroup: parameters.elementwiseWorkGroup))
    }
}
