import Foundation

/// The first stage of BERT uncased tokenisation: text cleaned, lowercased, stripped of accents and
/// split into words, before ``WordPieceTokenizer`` cuts each word into vocabulary pieces.
///
/// The rules are those of Hugging Face's `BertTokenizer` with `do_lower_case=True`,
/// `tokenize_chinese_chars=True` and `strip_accents` unset (the settings of every uncased BERT):
///
/// 1. U+0000, U+FFFD and every character of a `C*` category (control, format, unassigned,
///    private use) are dropped, except tab, newline and carriage return; whitespace becomes a space.
/// 2. CJK ideographs (the CJK Unified Ideographs blocks and their extensions A–E, the compatibility
///    ideographs) are surrounded by spaces, so each is a word.
/// 3. Each character is lowercased by its full Unicode mapping (`İ` → `i̇`), then the text is put in
///    canonical decomposition (NFD) and nonspacing marks (category `Mn`) are dropped: `Café` → `cafe`.
/// 4. The text splits at whitespace, and every punctuation character is a word of its own:
///    ASCII 33–47, 58–64, 91–96 and 123–126 (so `$`, `^`, `` ` `` and `~` count) and any `P*` character.
///
/// The two Hugging Face implementations differ in rare cases. Characters are lowercased one by
/// one, as the Rust `tokenizers` library behind `BertTokenizer` (transformers 5) and
/// `BertTokenizerFast` does, so a word-final `Σ` becomes `σ`; the pure-Python tokenizer of
/// transformers 4 (`BertTokenizerLegacy` in transformers 5) makes it `ς`. Character categories
/// come from Swift's Unicode tables, as the Python tokenizer takes them from Python's: unassigned
/// code points are dropped, where the Rust library keeps them (as `[UNK]`), and the few
/// characters whose category changed since the Rust library's tables follow the newer category.
public enum BertBasicTokenizer {
    /// The words of `text` after cleaning, lowercasing, accent stripping and splitting.
    ///
    /// ```swift
    /// BertBasicTokenizer.words(in: "Héllo, WORLD!")   // ["hello", ",", "world", "!"]
    /// ```
    public static func words(in text: String) -> [String] {
        var words: [String] = []
        forEachWord(in: Substring(text)) { words.append(String(decoding: $0, as: UTF8.self)) }
        return words
    }

    /// Calls `body` with the UTF-8 bytes of each word of `text`, in order.
    static func forEachWord(in text: Substring, _ body: ([UInt8]) -> Void) {
        let handledAsASCII = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard isASCII(bytes) else { return false }
            forEachASCIIWord(in: bytes, body)
            return true
        }
        // Non-ASCII text, or a string without contiguous UTF-8 storage (a bridged one): the general path.
        if handledAsASCII != true { forEachUnicodeWord(in: text, body) }
    }

    /// Whether every byte is below 0x80.
    private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var combined: UInt8 = 0
        for byte in bytes { combined |= byte }
        return combined < 0x80
    }

    /// The fast path for ASCII text, where lowercasing is `A`–`Z` only and no character has accents.
    private static func forEachASCIIWord(in bytes: UnsafeBufferPointer<UInt8>, _ body: ([UInt8]) -> Void) {
        var word: [UInt8] = []
        word.reserveCapacity(32)
        for byte in bytes {
            switch byte {
            case 0x09, 0x0A, 0x0D, 0x20:
                if !word.isEmpty { body(word); word.removeAll(keepingCapacity: true) }
            case 0x00..<0x20, 0x7F:
                continue  // control characters (and U+0000) are dropped
            case 33...47, 58...64, 91...96, 123...126:
                if !word.isEmpty { body(word); word.removeAll(keepingCapacity: true) }
                body([byte])
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                word.append(byte + 32)
            default:
                word.append(byte)
            }
        }
        if !word.isEmpty { body(word) }
    }

    /// The general path: clean and isolate CJK ideographs, lowercase, decompose, drop marks, split.
    private static func forEachUnicodeWord(in text: Substring, _ body: ([UInt8]) -> Void) {
        var lowered = String.UnicodeScalarView()
        var needsDecomposition = false
        for scalar in text.unicodeScalars {
            // Dropped first, so the control characters that are also whitespace (U+000B, U+000C,
            // U+0085) vanish rather than separate words.
            if scalar.value == 0 || scalar.value == 0xFFFD || isOther(scalar) { continue }
            if scalar.properties.isWhitespace {
                lowered.append(" ")
                continue
            }
            if isCJKIdeograph(scalar) {
                lowered.append(" ")
                lowered.append(scalar)
                lowered.append(" ")
                needsDecomposition = true  // compatibility ideographs decompose
                continue
            }
            if scalar.properties.changesWhenLowercased {
                for lower in scalar.properties.lowercaseMapping.unicodeScalars {
                    lowered.append(lower)
                    needsDecomposition = needsDecomposition || lower.value >= 0xC0
                }
            } else {
                lowered.append(scalar)
                needsDecomposition = needsDecomposition || scalar.value >= 0xC0
            }
        }
        // Canonical decompositions begin at U+00C0, so text below it is already in NFD.
        let decomposed = needsDecomposition
            ? String(lowered).decomposedStringWithCanonicalMapping : String(lowered)

        var word: [UInt8] = []
        word.reserveCapacity(32)
        func finishWord() {
            if !word.isEmpty { body(word); word.removeAll(keepingCapacity: true) }
        }
        for scalar in decomposed.unicodeScalars {
            if scalar.properties.generalCategory == .nonspacingMark { continue }
            if scalar.properties.isWhitespace {
                finishWord()
            } else if isPunctuation(scalar) {
                finishWord()
                var punctuation: [UInt8] = []
                UTF8.encode(scalar) { punctuation.append($0) }
                body(punctuation)
            } else {
                UTF8.encode(scalar) { word.append($0) }
            }
        }
        finishWord()
    }

    /// Whether `scalar` is in a `C*` category other than tab, newline and carriage return (which
    /// are whitespace): control, format, unassigned, private use or surrogate.
    static func isOther(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate:
            return !(scalar == "\t" || scalar == "\n" || scalar == "\r")
        default:
            return false
        }
    }

    /// Whether BERT splits at `scalar` as punctuation: non-alphanumeric printable ASCII, or a `P*` category.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 33...47, 58...64, 91...96, 123...126:
            return true
        case 0..<128:
            return false
        default:
            switch scalar.properties.generalCategory {
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                 .initialPunctuation, .finalPunctuation, .otherPunctuation:
                return true
            default:
                return false
            }
        }
    }

    /// Whether `scalar` is one of the CJK ideographs that BERT makes a word of its own.
    static func isCJKIdeograph(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
