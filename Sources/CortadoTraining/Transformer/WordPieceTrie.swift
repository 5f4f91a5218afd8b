/// The vocabulary of a ``WordPieceTokenizer`` as a trie over UTF-8 bytes, so that the longest entry
/// beginning a word is found in one walk along the word.
///
/// A vocabulary entry is valid UTF-8 and so ends on a character boundary of any word it begins:
/// matching bytes gives the same pieces as matching characters.
struct WordPieceTrie: Sendable {
    /// The root node, where every entry starts.
    static let root: Int32 = 0

    /// The child of each node for each byte, keyed by `node << 8 | byte`.
    private var children: [Int: Int32] = [:]
    /// The id of the entry that ends at each node, or -1.
    private var ids: [Int32] = [-1]

    /// An empty trie.
    init() {}

    /// Adds `bytes` with `id`; a later entry with the same bytes replaces an earlier one, as a
    /// later line of a vocabulary file does in Hugging Face's loader.
    mutating func insert(_ bytes: some Sequence<UInt8>, id: Int32) {
        var node = Self.root
        for byte in bytes {
            let key = Int(node) << 8 | Int(byte)
            if let next = children[key] {
                node = next
            } else {
                let next = Int32(ids.count)
                ids.append(-1)
                children[key] = next
                node = next
            }
        }
        ids[Int(node)] = id
    }

    /// The node reached from `node` by `byte`, or `nil`.
    @inline(__always)
    func child(of node: Int32, _ byte: UInt8) -> Int32? {
        children[Int(node) << 8 | Int(byte)]
    }

    /// The node reached from the root by `bytes`, or `nil` when no entry begins so.
    func node(for bytes: some Sequence<UInt8>) -> Int32? {
        var node = Self.root
        for byte in bytes {
            guard let next = child(of: node, byte) else { return nil }
            node = next
        }
        return node
    }

    /// The id of the entry ending at `node`, or `nil`.
    @inline(__always)
    func id(at node: Int32) -> Int32? {
        let id = ids[Int(node)]
        return id < 0 ? nil : id
    }

    /// The longest entry that continues from `start` (the root, or the node of `##`) with a
    /// non-empty prefix of `word[from...]`: its id and the index just past it, or `nil`.
    func longestMatch(in word: [UInt8], from: Int, startingAt start: Int32) -> (id: Int32, end: Int)? {
        var node = start
        var best: (id: Int32, end: Int)?
        var index = from
        while index < word.count, let next = child(of: node, word[index]) {
            node = next
            index += 1
            if let id = id(at: node) { best = (id, index) }
        }
        return best
    }
}
