import CVectorMath
import Foundation

extension CPUBackend {
    package func gatherRows(
        _ table: DeviceBuffer, firstRow: Int, tableRows: Int, indices: DeviceBuffer, count: Int, width: Int,
        into out: DeviceBuffer, keepingOthers: Bool
    ) throws {
        // Rows are copied as bits of the element's width, whatever the type (zero is all zero bits).
        let rows = firstRow..<(firstRow + tableRows)
        if table.dtype.isHalf {
            gatherRows(table.halves, rows: rows, indices: indices.ints, count: count, width: width, into: out.halves, keepingOthers: keepingOthers)
        } else {
            gatherRows(table.floats, rows: rows, indices: indices.ints, count: count, width: width, into: out.floats, keepingOthers: keepingOthers)
        }
    }

    private func gatherRows<Element: Numeric>(
        _ ts: UnsafeMutablePointer<Element>, rows: Range<Int>, indices idx: UnsafeMutablePointer<Int32>, count: Int,
        width: Int, into os: UnsafeMutablePointer<Element>, keepingOthers: Bool
    ) {
        Parallel.forEach(count: count, grain: max(1, Self.elementwiseGrain / max(width, 1))) { range in
            for i in range {
                let row = Int(idx[i])
                let target = os + i * width
                if rows.contains(row) {
                    target.update(from: ts + (row - rows.lowerBound) * width, count: width)
                } else if !keepingOthers {
                    target.initialize(repeating: 0, count: width)
                }
            }
        }
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
        let vs = values.floats, idx = indices.ints, os = out.floats
        memset(os, 0, tableRows * width * 4)
        for i in 0..<count {
            let row = Int(idx[i]) - firstRow
            guard row >= 0 && row < tableRows else { continue }
            let target = os + row * width, source = vs + i * width
            for d in 0..<width { target[d] += source[d] }
        }
    }

    package func crossEntropy(
        _ logits: DeviceBuffer, labels: DeviceBuffer, rows: Int, classes: Int, losses: DeviceBuffer,
        probabilities: DeviceBuffer
    ) throws {
        let xs = logits.floats, ls = labels.ints, out = losses.floats, ps = probabilities.floats
        Parallel.forEach(count: rows, grain: max(1, Self.transcendentalGrain / max(classes, 1))) { range in
            for row in range {
                let x = xs + row * classes, p = ps + row * classes
                var m = -Float.infinity
                for j in 0..<classes { m = Float.maximum(m, x[j]) }
                var total: Float = 0
                for j in 0..<classes {
                    let e = Foundation.exp(x[j] - m)
                    p[j] = e
                    total += e
                }
                let inverse = 1 / total
                for j in 0..<classes { p[j] *= inverse }
                let label = Int(ls[row])
                out[row] = label >= 0 && label < classes ? Foundation.log(total) + m - x[label] : .nan
            }
        }
    }

    package func crossEntropyBackward(
        _ probabilities: DeviceBuffer, labels: DeviceBuffer, dloss: DeviceBuffer, rows: Int, classes: Int,
        into dlogits: DeviceBuffer
    ) throws {
        let ps = probabilities.floats, ls = labels.ints, gs = dloss.floats, ds = dlogits.floats
        for row in 0..<rows {
            let label = Int(ls[row]), g = gs[row]
            for j in 0..<classes {
                let at = row * classes + j
                ds[at] = (ps[at] - (label == j ? 1 : 0)) * g
            }
        }
    }

    package func update(
        _ rule: UpdateRule, parameter: DeviceBuffer, gradient: DeviceBuffer, state: [DeviceBuffer], count: Int
    ) throws {
        precondition(state.count == rule.stateCount, "\(rule) needs \(rule.stateCount) state buffers")
        let p = parameter.floats, g = gradient.floats
        let s0 = state[0].floats, s1 = state.count > 1 ? state[1].floats : s0
        Parallel.forEach(count: count, grain: Self.elementwiseGrain) { range in
            switch rule {
            case let .sgd(lr, momentum, weightDecay, nesterov):
                for i in range {
                    var step = g[i] + weightDecay * p[i]
                    if momentum != 0 {
                        let v = momentum * s0[i] + step
                        s0[i] = v
                        step = nesterov ? step + momentum * v : v
                    }
                    p[i] -= lr * step
                }
            case let .adam(beta1, beta2, epsilon, stepSize, biasCorrection2, l2, decay):
                var step = cortado_vm_adam_step(
                    beta1: beta1, beta2: beta2, epsilon: epsilon, step_size: stepSize, bias_correction2: biasCorrection2,
                    l2: l2, decay: decay)
                let first = range.lowerBound
                cortado_vm_adam(p + first, g + first, s0 + first, s1 + first, range.count, &step)
            case let .rmsProp(lr, alpha, epsilon, weightDecay, momentum):
                for i in range {
                    let grad = g[i] + weightDecay * p[i]
                    let square = alpha * s0[i] + (1 - alpha) * grad * grad
                    s0[i] = square
                    var step = grad / (square.squareRoot() + epsilon)
                    if momentum != 0 {
                        step = momentum * s1[i] + step
                        s1[i] = step
                    }
                    p[i] -= lr * step
                }
            case let .adaGrad(lr, epsilon, weightDecay):
                for i in range {
                    let grad = g[i] + weightDecay * p[i]
                    let sum = s0[i] + grad * grad
                    s0[i] = sum
                    p[i] -= lr * grad / (sum.squareRoot() + epsilon)
                }
            }
        }
    }
}
