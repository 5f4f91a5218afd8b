import Foundation

/// What must be the same on every rank of a data-parallel run, as named fields: the options (by
/// the flag that sets each), the model, the data (sizes and a checksum), the optimizer's state.
/// The device and thread count are left out: they may differ between ranks.
struct RunFingerprint: Codable, Equatable {
    /// Field name (a flag such as `--lr`, or a description such as `training samples`) → value.
    var fields: [String: String]

    /// The fingerprint of a prepared run.
    init(_ run: TrainingRun) throws {
        var fields: [String: String] = [:]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let object = try JSONSerialization.jsonObject(with: encoder.encode(run.options)) as? [String: Any] ?? [:]
        for (key, value) in object {
            let text = (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            fields[Self.flag(for: key)] = text
        }
        fields["model"] = run.modelKind.rawValue
        fields["trainable parameters"] = "\(run.model.parameterCount) in \(run.optimizer.parameters.count) tensors"
        fields["training samples"] = "\(run.train.count) of shape \(run.train.sampleShape)"
        fields["test samples"] = "\(run.data.split.test.count)"
        fields["training data checksum"] = String(Self.checksum(run.train), radix: 16)
        fields["classes"] = run.data.classNames?.joined(separator: ",") ?? "none"
        fields["optimizer steps taken"] = "\(run.optimizer.stepCount)"
        fields["first epoch"] = "\(run.startEpoch)"
        self.fields = fields
    }

    /// The differences of `other` (rank `rank`) from this fingerprint (rank 0's), one line each.
    func differences(_ other: RunFingerprint, rank: Int) -> [String] {
        Set(fields.keys).union(other.fields.keys).sorted().compactMap { key in
            let mine = fields[key] ?? "(not set)", theirs = other.fields[key] ?? "(not set)"
            return mine == theirs ? nil : "rank \(rank) has \(key) \(theirs), rank 0 has \(mine)"
        }
    }

    /// `cortado train`'s flag for an option's coding key (`learningRate` → `--lr`).
    private static func flag(for key: String) -> String {
        let named = ["learningRate": "lr", "vocabularySize": "vocab-size", "maxLength": "max-len", "initDirectory": "init"]
        if let name = named[key] { return "--" + name }
        var flag = "--"
        for character in key {
            if character.isUppercase { flag += "-" + character.lowercased() } else { flag.append(character) }
        }
        return flag
    }

    /// FNV-1a over the targets and up to a million evenly spaced feature values.
    private static func checksum(_ dataset: Dataset) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ word: UInt32) {
            hash = (hash ^ UInt64(word)) &* 0x0000_0100_0000_01b3
        }
        switch dataset.targets {
        case let .classes(labels, classCount):
            mix(UInt32(classCount))
            for label in labels { mix(UInt32(bitPattern: label)) }
        case let .values(values):
            for value in values { mix(value.bitPattern) }
        }
        let features = dataset.features
        let stride = max(1, features.count / 1_000_000)
        for index in Swift.stride(from: 0, to: features.count, by: stride) { mix(features[index].bitPattern) }
        return hash
    }
}
