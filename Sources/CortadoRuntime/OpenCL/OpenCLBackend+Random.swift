extension OpenCLBackend {
    package func random(
        _ distribution: Distribution, seed: UInt64, counter: UInt64, into buffer: DeviceBuffer,
        offset: Int, count: Int
    ) throws {
        try checkIndexable(count)
        // One work-item per Philox block: four elements for uniform and Bernoulli, one for normal.
        let (kernel, p0, p1): (String, Float, Float)
        switch distribution {
        case let .uniform(low, high): (kernel, p0, p1) = ("random_uniform", low, high)
        case let .normal(mean, std): (kernel, p0, p1) = ("random_normal", mean, std)
        case let .bernoulli(probability, value): (kernel, p0, p1) = ("random_bernoulli", probability, value)
        }
        try launch(.random, kernel, global: [distribution.blocks(for: count)], local: [parameters.elementwiseWorkGroup], [
            .buffer(buffer), .int(offset), .int(count), .ulong(seed), .ulong(counter), .float(p0), .float(p1),
        ])
    }
}
