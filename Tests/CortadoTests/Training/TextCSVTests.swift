import CortadoTraining
import Foundation
import Testing

@Suite("Text: labelled CSV and TSV files")
struct TextCSVTests {
    /// Writes `text` to `name` in a fresh directory and loads it as a text source.
    private func load(
        _ text: String, name: String = "texts.csv", textColumn: String? = nil, labelColumn: String? = nil
    ) throws -> (split: TextSplit, path: String, directory: TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        let path = try directory.write(name, text: text)
        let split = try TextSource.resolve(path, textColumn: textColumn, labelColumn: labelColumn).load()
        return (split, path, directory)
    }

    @Test("string labels: classes sorted, every fifth row held out, quoted texts kept whole")
    func stringLabels() throws {
        let csv = #"""
            text,label
            "Great, really great",pos
            awful,neg
            "so-so, ""fine""",neutral
            "line one
            line two",pos
            fifth row,neg
            sixth,pos

            """#
        let (split, _, _) = try load(csv)
        #expect(split.classNames == ["neg", "neutral", "pos"])
        #expect(split.train.texts == ["Great, really great", "awful", "so-so, \"fine\"", "line one\nline two", "sixth"])
        #expect(split.train.labels == [2, 0, 1, 2, 2])
        #expect(split.test.texts == ["fifth row"])
        #expect(split.test.labels == [0])
        #expect(split.test.classNames == split.classNames)
    }

    @Test("integer labels sort numerically and are named in decimal")
    func integerLabels() throws {
        let csv = "label,text\n10,a\n9,b\n-1,c\n 07 ,d\n10,e\n9,f\n"
        let (split, _, _) = try load(csv)
        #expect(split.classNames == ["-1", "7", "9", "10"])
        #expect(split.train.labels == [3, 2, 0, 1, 2])
        #expect(split.test.labels == [3])
    }

    @Test("mixed labels sort as strings, by code point")
    func mixedLabels() throws {
        let csv = "text,label\na,b\nb,10\nc,9\nd,B\ne,b\n"
        #expect(try load(csv).split.classNames == ["10", "9", "B", "b"])
    }

    @Test("a TSV file with named columns; other columns are ignored")
    func tsvColumns() throws {
        let tsv = "id\treview\tstars\n1\tgood film\t5\n2\t\"bad, \tfilm\"\t1\n3\tok\t3\n4\tfine\t4\n5\tmeh\t2\n"
        let (split, _, _) = try load(tsv, name: "reviews.tsv", textColumn: "review", labelColumn: "stars")
        #expect(split.classNames == ["1", "2", "3", "4", "5"])
        #expect(split.train.texts == ["good film", "bad, \tfilm", "ok", "fine"])
        #expect(split.train.labels == [4, 0, 2, 3])
        #expect(split.test.labels == [1])
    }

    @Test("errors name the file and the problem: columns, ragged rows, empty texts and labels, one class, too few rows")
    func errors() throws {
        let directory = try TemporaryDirectory()
        func expectFailure(_ text: String, text textColumn: String? = nil, label labelColumn: String? = nil, mentions fragments: [String]) throws {
            let path = try directory.write("bad.csv", text: text)
            expectDataError(containing: [path] + fragments) {
                _ = try TextSource.resolve(path, textColumn: textColumn, labelColumn: labelColumn).load()
            }
        }
        let good = "message,category\na,x\nb,y\nc,x\nd,y\ne,x\n"
        try expectFailure(good, mentions: ["no column named 'text' for the text", "the columns are: 'message', 'category'"])
        try expectFailure(good, text: "message", mentions: ["no column named 'label' for the label", "'message', 'category'"])
        try expectFailure(good, text: "message", label: "kind", mentions: ["no column named 'kind'"])
        try expectFailure("text,label\na,x\nb,y,z\n", mentions: ["line 3 has 3 fields, but the header has 2 (text, label)"])
        try expectFailure("text,label\na,x\nb,y\n\"\",x\nd,y\ne,x\n", mentions: ["line 4", "text", "empty"])
        try expectFailure("text,label\na,x\nb,y\n   ,x\nd,y\ne,x\n", mentions: ["line 4", "text", "empty"])
        try expectFailure("text,label\na,x\nb, \nc,x\nd,y\ne,x\n", mentions: ["line 3", "label", "empty"])
        try expectFailure("text,label\na,x\nb,x\nc,x\nd,x\ne,y\nf,x\n", mentions: ["every training row has the label 'x'", "at least 2 classes"])
        try expectFailure("text,label\na,x\nb,y\n", mentions: ["2 data rows", "at least 5"])
        try expectFailure("text,label\n", mentions: ["no data rows"])
        try expectFailure("text,label,text\na,x,b\n", mentions: ["2 columns are named 'text'"])
        expectDataError(containing: [directory.file("absent.csv"), "not found"]) {
            _ = try TextSource.resolve(directory.file("absent.csv")).load()
        }
    }

    @Test("resolving --data: corpus names, CSV/TSV paths with default columns, and what is neither")
    func resolving() throws {
        #expect(try TextSource.resolve("trec") == .corpus(.trec))
        #expect(try TextSource.resolve("Movie-Snippets") == .corpus(.movieSnippets))
        #expect(try TextSource.resolve("a/b.csv") == .file(path: "a/b.csv", textColumn: "text", labelColumn: "label"))
        #expect(try TextSource.resolve("b.TSV.gz", labelColumn: "y") == .file(path: "b.TSV.gz", textColumn: "text", labelColumn: "y"))
        expectDataError(containing: ["'imdb'", "movie-snippets, sms-spam, trec", ".csv/.tsv"]) { _ = try TextSource.resolve("imdb") }
        expectDataError(containing: ["sms-spam", "built-in corpus", "'body'"]) { _ = try TextSource.resolve("sms-spam", textColumn: "body") }
    }
}
