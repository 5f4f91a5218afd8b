extension TextDataset {
    /// The texts as WordPiece ids for ``BertClassifier``: each sample is `[CLS]`, the word pieces
    /// (truncated), `[SEP]`, then the padding id up to `maxLength`, stored as `Float` features of
    /// shape `[maxLength]` (exact: ids stay below 2^24), with the labels as class targets.
    ///
    /// A row's real tokens end with its `[SEP]`, the last id that is not padding; batches are cut
    /// back to their longest row by ``Batch/wordPieceTensors(paddingId:device:)``.
    public func wordPieceEncoded(tokenizer: WordPieceTokenizer, maxLength: Int) throws -> Dataset {
        var features: [Float] = []
        features.reserveCapacity(count * max(maxLength, 0))
        let padding = Float(tokenizer.paddingId)
        for text in texts {
            let ids = try tokenizer.encode(text, maxLength: maxLength).ids
            features.append(contentsOf: ids.map(Float.init))
            features.append(contentsOf: repeatElement(padding, count: maxLength - ids.count))
        }
        return try Dataset(
            features: features, sampleShape: [maxLength], targets: .classes(labels: labels, classCount: classNames.count))
    }
}

extension TextSplit {
    /// Both sets as WordPiece ids (see ``TextDataset/wordPieceEncoded(tokenizer:maxLength:)``); the
    /// test set is ordered by length, longest first, so that evaluation batches carry little padding
    /// (its loss and accuracy do not depend on the order).
    public func wordPieceEncoded(tokenizer: WordPieceTokenizer, maxLength: Int) throws -> DatasetSplit {
        let test = try self.test.wordPieceEncoded(tokenizer: tokenizer, maxLength: maxLength)
        return DatasetSplit(
            train: try train.wordPieceEncoded(tokenizer: tokenizer, maxLength: maxLength),
            test: test.sortedByTokenCount(paddingId: tokenizer.paddingId))
    }
}

extension Dataset {
    /// The samples ordered by their number of real tokens, longest first (stable), for token rows
    /// padded at the end with `paddingId`.
    public func sortedByTokenCount(paddingId: Int32) -> Dataset {
        let width = featuresPerSample
        let padding = Float(paddingId)
        let lengths = (0..<count).map { sample -> Int in
            let row = features[(sample * width)..<((sample + 1) * width)]
            return (row.lastIndex { $0 != padding }).map { $0 - sample * width + 1 } ?? 0
        }
        let order = (0..<count).sorted { lengths[$0] != lengths[$1] ? lengths[$0] > lengths[$1] : $0 < $1 }
        return selecting(order)
    }
}
