extension OpenCLBackend {
    package func gatherRows(
        _ table: DeviceBuffer, firstRow: Int, tableRows: Int, indices: DeviceBuffer, count: Int, width: Int,
        into out: DeviceBuffer, keepingOthers: Bool
    ) throws {
        try checkIndexable(count * width)
        try launch(.indexing(table.dtype), "gather_rows", global: [count * width], local: [parameters.elementwiseWorkGroup], [
            .buffer(table), .buffer(indices), .buffer(out), .int(count), .int(width), .int(firstRow), .int(tableRows),
            .int(keepingOthers ? 1 : 0),
        ])
    }

    package func scatterAddRows(
        _ values: DeviceBuffer, indices: DeviceBuffer, count: Int, width: Int, firstRow: Int, tableRows: Int,
        into out: DeviceBuffer
    ) throws {
        if values.dtype.isHalf {
            return try widening([values, indices], into: [out]) { b in
                try scatterAddRows(b[0]!, indices: b[1]!, count: count, width: width, firstRow: firstRow, tableRows: tableRows, into: b[2]!)
            }
        }
        try fill(out, offset: 0, count: tableRows * width, value: 0)
        try launch(.indexing(.float32), "scatter_add_rows", global: [width], local: [1], [
            .buffer(values), .buffer(indices), .buffer(out), .int(count), .int(width), .int(firstRow), .int(tableRows),
        ])
    }

    package func crossEntropy(
        _ logits: DeviceBuffer, labels: DeviceBuffer, rows: Int, classes: Int, losses: DeviceBuffer,
        probabilities: DeviceBuffer
    ) throws {
        try launch(.loss, "cross_entropy_forward", global: [rows], local: [parameters.elementwiseWorkGroup], [
            .buffer(logits), .buffer(labels), .buffer(losses), .buffer(probabilities), .int(rows), .int(classes),
        ])
    }

    package func crossEntropyBackward(
        _ probabilities: DeviceBuffer, labels: DeviceBuffer, dloss: DeviceBuffer, rows: Int, classes: Int,
        into dlogits: DeviceBuffer
    ) throws {
        try launch(.loss, "cross_entropy_backward", global: [rows * classes], local: [parameters.elementwiseWorkGroup], [
            .buffer(probabilities), .buffer(labels), .buffer(dloss), .buffer(dlogits), .int(rows), .int(classes),
        ])
    }

    package func update(
        _ rule: UpdateRule, parameter: DeviceBuffer, gradient: DeviceBuffer, state: [DeviceBuffer], count: Int
    ) throws {
        precondition(state.count == rule.stateCount, "\(rule) needs \(rule.stateCount) state buffers")
        try checkIndexable(count)
        let group = [parameters.elementwiseWorkGroup]
        switch rule {
        case let .sgd(lr, momentum, weightDecay, nesterov):
            try launch(.optimizers, "sgd_update", global: [count], local: group, [
                .buffer(parameter), .buffer(gradient), .buffer(state[0]), .int(count), .float(lr), .float(momentum),
                .float(weightDecay), .int(nesterov ? 1 : 0),
            ])
        case let .adam(beta1, beta2, epsilon, stepSize, biasCorrection2, l2, decay):
            try launch(.optimizers, "adam_update", global: [count], local: group, [
                .buffer(parameter), .buffer(gradient), .buffer(state[0]), .buffer(state[1]), .int(count),
                .float(beta1), .float(beta2), .float(epsilon), .float(stepSize), .float(biasCorrection2), .float(l2),
                .float(decay),
            ])
        case let .rmsProp(lr, alpha, epsilon, weightDecay, momentum):
            try launch(.optimizers, "rmsprop_update", global: [count], local: group, [
                .buffer(parameter), .buffer(gradient), .buffer(state[0]), .buffer(state[1]), .int(count), .float(lr),
                .float(alpha), .float(epsilon), .float(weightDecay), .float(momentum),
            ])
        case let .adaGrad(lr, epsilon, weightDecay):
            try launch(.optimizers, "adagrad_update", global: [count], local: group, [
                .buffer(parameter), .buffer(gradient), .buffer(state[0]), .int(count), .float(lr), .float(epsilon),
                .float(weightDecay),
            ])
        }
    }
}
