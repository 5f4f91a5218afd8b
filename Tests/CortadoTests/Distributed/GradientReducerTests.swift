@testable import CortadoTraining
import Foundation
import Testing

/// `GradientReducer`'s all-reduce calls and where it reduces: a bucket's large gradient in its own
/// memory when nothing else holds it, else in the bucket; the same calls on every device.
@Suite("Gradient reducer")
struct GradientReducerTests {
    /// One rank that sees an identical twin: every sum doubles the values; records each call's size.
    final class Twin: Communicator, @unchecked Sendable {
        let rank = 0, size = 2, localSize = 2
        var localRank: Int { 0 }
        var calls: [Int] = []

        func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
            calls.append(values.count)
            for index in values.indices { values[index] *= 2 }
        }
        func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {
            for index in values.indices { values[index] *= 2 }
        }
        func allReduceMax(_ values: UnsafeMutableBufferPointer<Double>) throws {}
        func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { [bytes, bytes] }
        func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {}
        func abort(_ message: String, code: Int32) -> Never { fatalError(message) }
    }

    @Test("a large gradient held by its parameter alone is reduced in place; a shared one is copied and its other holder keeps its values",
          arguments: [Device.cpu, TestDevices.openCL])
    func inPlace(device: Device) throws {
        let counts = [100, 300_000, 64, 20_000]
        let plan = GradientBuckets(counts: counts)
        #expect(plan.buckets.map { $0.entries.map(\.parameter) } == [[3, 2, 1], [0]])
        let parameters = try counts.map { try Parameter(Tensor.zeros([$0], device: device)) }
        let twin = Twin()
        let reducer = try GradientReducer(
            parameters: parameters, device: device, communicator: twin, plan: plan, timeout: 60, overlaps: false)
        let values = counts.enumerated().map { index, count in Fixtures.values(count, seed: UInt64(80 + index)) }
        for shared in [false, true] {
            twin.calls = []
            for (parameter, value) in zip(parameters, values) { parameter.value.grad = try Tensor(value, shape: [value.count], device: device) }
            weak var large = parameters[1].value.grad  // weak: not a holder
            let alias = shared ? parameters[1].value.grad : nil  // another holder of the large gradient
            try reducer.beginStep(localCount: 1, globalCount: 2, loss: nil, stop: false)
            for parameter in parameters.reversed() { try reducer.gradientReady(parameter.value) }
            _ = try reducer.finishStep(stepStart: DispatchTime.now().uptimeNanoseconds)
            // The large gradient alone, then the rest of its bucket; the small bucket with the control block.
            #expect(twin.calls == [300_000, 20_064, 100 + 3 + 4], "shared \(shared) on \(device)")
            for (index, parameter) in parameters.enumerated() {
                assertClose(try #require(parameter.value.grad).toArray(), values[index].map { 2 * $0 }, rtol: 0, atol: 0,
                            "parameter \(index), shared \(shared) on \(device)")
            }
            let reducedInPlace = large != nil && parameters[1].value.grad === large
            #expect(reducedInPlace == (device == .cpu && !shared), "shared \(shared) on \(device)")
            if let alias { assertClose(try alias.toArray(), values[1], rtol: 0, atol: 0, "the other holder keeps its values") }
        }
    }

    @Test("a table's rows that no rank touched stay out of the all-reduce, on every device", arguments: [Device.cpu, TestDevices.openCL])
    func rowSparseTable(device: Device) throws {
        let rows = 2048, width = 8, touched = [1, 64, 2000]
        let table = try Parameter(Tensor.zeros([rows, width], device: device))
        let bias = try Parameter(Tensor.zeros([100], device: device))
        let parameters = [table, bias]
        let plan = GradientBuckets(counts: parameters.map(\.value.count))
        let twin = Twin()
        let reducer = try GradientReducer(
            parameters: parameters, device: device, communicator: twin, plan: plan, timeout: 60, overlaps: false)
        let values = RowSparseReductionTests.table(rows: rows, width: width, touched: touched, seed: 90)
        let biasValues = Fixtures.values(100, seed: 91)
        table.value.grad = try Tensor(values, shape: [rows, width], device: device)
        bias.value.grad = try Tensor(biasValues, shape: [100], device: device)
        try reducer.beginStep(localCount: 1, globalCount: 2, loss: nil, stop: false)
        for parameter in parameters.reversed() { try reducer.gradientReady(parameter.value) }
        _ = try reducer.finishStep(stepStart: DispatchTime.now().uptimeNanoseconds)
        #expect(!twin.calls.contains(rows * width), "the whole table was all-reduced on \(device): \(twin.calls)")
        #expect(twin.calls.starts(with: [rows, touched.count * width]), "the marks, then the touched rows, on \(device): \(twin.calls)")
        assertClose(try #require(table.value.grad).toArray(), values.map { 2 * $0 }, rtol: 0, atol: 0, "table on \(device)")
        assertClose(try #require(bias.value.grad).toArray(), biasValues.map { 2 * $0 }, rtol: 0, atol: 0, "bias on \(device)")
    }
}
