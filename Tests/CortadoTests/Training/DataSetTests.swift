import CortadoTraining
import Foundation
import Testing

@Suite("Data: data sets, splits and standardisation")
struct DataSetTests {
    /// `count` samples of shape [2]: sample i is (i, −i), with target i.
    static func numbered(_ count: Int) throws -> Dataset {
        try Dataset(
            features: (0..<count).flatMap { [Float($0), -Float($0)] }, sampleShape: [2],
            targets: .values((0..<count).map(Float.init)))
    }

    @Test("inconsistent sizes, shapes and labels are rejected")
    func validation() throws {
        expectDataError(containing: ["5 feature values", "2 samples of shape [2]"]) {
            _ = try Dataset(features: [1, 2, 3, 4, 5], sampleShape: [2], targets: .values([1, 2]))
        }
        expectDataError(containing: ["label 3 is outside 0..<3"]) {
            _ = try Dataset(features: [1, 2], sampleShape: [1], targets: .classes(labels: [0, 3], classCount: 3))
        }
        expectDataError(containing: ["positive dimensions"]) {
            _ = try Dataset(features: [], sampleShape: [0], targets: .values([]))
        }
    }

    @Test("prefix keeps the first n samples (all of them when n is larger)")
    func prefix() throws {
        let data = try Self.numbered(7)
        #expect(data.prefix(3).features == [0, 0, 1, -1, 2, -2])
        #expect(data.prefix(3).targets == .values([0, 1, 2]))
        #expect(data.prefix(100) == data)
        #expect(data.prefix(0).count == 0)
    }

    @Test("the split holds out rows i % 5 == 4, in file order")
    func everyFifth() throws {
        let split = try Self.numbered(14).everyFifthHeldOut()
        #expect(split.test.targets == .values([4, 9]))
        #expect(split.train.targets == .values([0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13]))
        #expect(split.test.features == [4, -4, 9, -9])
    }

    @Test("whole-number targets become class labels sharing one class count")
    func classifying() throws {
        let data = try Dataset(features: [1, 2, 3, 4, 5], sampleShape: [1], targets: .values([0, 2, 1, 0, 3]))
        let split = data.everyFifthHeldOut()  // test holds the sample with target 3
        let classified = try split.classifying()
        #expect(classified.train.targets == .classes(labels: [0, 2, 1, 0], classCount: 4))
        #expect(classified.test.targets == .classes(labels: [3], classCount: 4))
        let real = try Dataset(features: [1], sampleShape: [1], targets: .values([0.5]))
        expectDataError(containing: ["target 0.5", "whole numbers"]) { _ = try real.classifying() }
    }

    @Test("standardisation fits on one set, applies to another and round-trips through JSON")
    func standardization() throws {
        let train = try Dataset(features: [1, 5, 3, 5, 5, 5], sampleShape: [2], targets: .values([0, 0, 0]))
        let statistics = FeatureStandardization.fit(to: train)
        let std = Float((8.0 / 3).squareRoot())
        assertClose(statistics.means, [3, 5])
        assertClose(statistics.standardDeviations, [std, 1])
        let other = try Dataset(features: [7, 6], sampleShape: [2], targets: .values([0]))
        assertClose(try statistics.apply(to: other).features, [4 / std, 1])

        let json = try JSONEncoder().encode(statistics)
        #expect(try JSONDecoder().decode(FeatureStandardization.self, from: json) == statistics)
        let broken = Data(#"{"means":[1,2],"standardDeviations":[0,1]}"#.utf8)
        #expect(throws: DataError.self) { try JSONDecoder().decode(FeatureStandardization.self, from: broken) }
        let wide = try Dataset(features: [1, 2, 3], sampleShape: [3], targets: .values([0]))
        expectDataError(containing: ["fitted on 2 features", "this data has 3"]) { _ = try statistics.apply(to: wide) }
    }

    @Test("a constant column that does not round exactly keeps a standard deviation of 1")
    func nearlyConstantColumn() throws {
        let data = try Dataset(features: Array(repeating: 0.1, count: 3), sampleShape: [1], targets: .values([0, 0, 0]))
        #expect(FeatureStandardization.fit(to: data).standardDeviations == [1])
    }
}
