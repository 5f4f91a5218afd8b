/// NumPy broadcasting rules.
enum Broadcasting {
    /// The shape two operands broadcast to: dimensions align from the right; each pair must be equal
    /// or contain a 1.
    static func shape(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard x == y || x == 1 || y == 1 else {
                throw CortadoError.shapeMismatch("\(op): shapes \(a) and \(b) do not broadcast")
            }
            result[i] = x == 1 ? y : x
        }
        return result
    }

    /// Strides that read `tensor` as if it had `shape` (stride 0 along broadcast dimensions).
    static func strides(of tensor: Tensor, to shape: [Int]) -> [Int] {
        let lead = shape.count - tensor.rank
        return shape.indices.map { i in
            i < lead || tensor.shape[i - lead] != shape[i] ? 0 : tensor.strides[i - lead]
        }
    }
}

extension Tensor {
    /// Sums a broadcast gradient back down to `target` (the shape of the operand it flows to).
    package func summed(toShape target: [Int]) throws -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        var axes = Array(0..<lead)
        for i in target.indices where target[i] == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        let reduced = try sum(axes: axes, keepingDims: true)
        return try reduced.reshaped(target)
    }
}
