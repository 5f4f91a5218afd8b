extension TextDataset {
    /// The texts as token ids for the trainer: each sample is `maxLength` ids from
    /// ``Tokenizer/encode(_:maxLength:)``, stored as `Float` features of shape `[maxLength]` (exact,
    /// since ids stay below 2^24), with the labels as class targets. Throws unless `maxLength` is positive.
    public func encoded(tokenizer: Tokenizer, maxLength: Int) throws -> Dataset {
        var features: [Float] = []
        features.reserveCapacity(count * max(maxLength, 0))
        for text in texts {
            features.append(contentsOf: try tokenizer.encode(text, maxLength: maxLength).map(Float.init))
        }
        return try Dataset(
            features: features, sampleShape: [maxLength], targets: .classes(labels: labels, classCount: classNames.count))
    }
}

extension TextSplit {
    /// Both sets as token ids (see ``TextDataset/encoded(tokenizer:maxLength:)``), ready for a
    /// ``BatchLoader``; fit `tokenizer` on `train.texts` only.
    public func encoded(tokenizer: Tokenizer, maxLength: Int) throws -> DatasetSplit {
        DatasetSplit(
            train: try train.encoded(tokenizer: tokenizer, maxLength: maxLength),
            test: try test.encoded(tokenizer: tokenizer, maxLength: maxLength))
    }
}
