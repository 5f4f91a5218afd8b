import CortadoTraining
import Foundation
import Testing

@Suite("Data: CSV and TSV files")
struct DataCSVTests {
    @Test("RFC 4180 quoting: commas, doubled quotes and line breaks inside quotes; CRLF; blank lines; BOM")
    func quoting() throws {
        let text = "\u{FEFF}name,\"note, with comma\",value\r\n"
            + "\"Smith, J\",\"said \"\"hi\"\"\",1\r\n"
            + "\r\n"
            + "plain,\"two\nlines\",2\n"
            + "\"\",,3\n"
            + "last,x,4"
        let table = try CSVTable.parse(Array(text.utf8), delimiter: ",", path: "q.csv")
        #expect(table.columns == ["name", "note, with comma", "value"])
        #expect(table.rows == [
            ["Smith, J", "said \"hi\"", "1"],
            ["plain", "two\nlines", "2"],
            ["", "", "3"],
            ["last", "x", "4"],
        ])
        #expect(table.rowLines == [2, 4, 6, 7])
    }

    @Test("malformed quoting and ragged rows are errors naming the row")
    func malformedQuoting() throws {
        expectDataError(containing: ["bad.csv", "line 2", "never closes"]) {
            _ = try CSVTable.parse(Array("a,b\n1,\"open\n2,3\n".utf8), delimiter: ",", path: "bad.csv")
        }
        expectDataError(containing: ["bad.csv", "line 2", "after the closing quote"]) {
            _ = try CSVTable.parse(Array("a,b\n\"x\"y,3\n".utf8), delimiter: ",", path: "bad.csv")
        }
        expectDataError(containing: ["bad.csv", "line 3 has 3 fields, but the header has 2 (a, b)"]) {
            _ = try CSVTable.parse(Array("a,b\n1,2\n1,2,3\n".utf8), delimiter: ",", path: "bad.csv")
        }
    }

    @Test("a .tsv file is split on tabs; a .csv.gz file is read through gzip")
    func tsvAndGzip() throws {
        let directory = try TemporaryDirectory()
        let tsv = try directory.write("data.tsv", text: "x\ty, with comma\ttarget\n1\t2\t3\n\"4\t5\"\t6\t7\n")
        let table = try CSVTable.read(path: tsv)
        #expect(table.columns == ["x", "y, with comma", "target"])
        #expect(table.rows == [["1", "2", "3"], ["4\t5", "6", "7"]])
        let gz = try directory.write("data.csv.gz", text: "a,b\n1,2\n")
        #expect(try CSVTable.read(path: gz).rows == [["1", "2"]])
        #expect(CSVTable.delimiter(forPath: "A.TSV") == "\t")
        #expect(CSVTable.delimiter(forPath: "a.csv") == ",")
    }

    @Test("the target column is picked by name; every other column is a feature, in order")
    func targetSelection() throws {
        let table = try CSVTable.parse(Array("a, price ,b\n1,10.5,2\n3,-2e1,4\n".utf8), delimiter: ",", path: "t.csv")
        let dataset = try table.dataset(target: "price")
        #expect(dataset.sampleShape == [2])
        #expect(dataset.features == [1, 2, 3, 4])
        #expect(dataset.targets == .values([10.5, -20]))
        #expect(table.featureColumns(target: "price") == ["a", "b"])
    }

    @Test("an unknown target lists the columns")
    func unknownTarget() throws {
        let table = try CSVTable.parse(Array("a,b,c\n1,2,3\n".utf8), delimiter: ",", path: "t.csv")
        expectDataError(containing: ["t.csv", "no column named 'd'", "'a', 'b', 'c'"]) { _ = try table.dataset(target: "d") }
        let single = try CSVTable.parse(Array("y\n1\n".utf8), delimiter: ",", path: "one.csv")
        expectDataError(containing: ["one.csv", "no feature columns"]) { _ = try single.dataset(target: "y") }
    }

    @Test("a non-numeric or empty cell names the file, the row (header = row 1) and the column")
    func nonNumericCell() throws {
        let text = "a,b,y\n1,2,3\n4,\"five\nlines\",6\n7,abc,9\n"
        let table = try CSVTable.parse(Array(text.utf8), delimiter: ",", path: "n.csv")
        expectDataError(containing: ["n.csv", "line 3, column 'b'", "'five\nlines' is not a finite number"]) {
            _ = try table.dataset(target: "y")
        }
        let later = try CSVTable.parse(Array("a,b,y\n1,2,3\n4,5,6\n7,abc,9\n".utf8), delimiter: ",", path: "n.csv")
        expectDataError(containing: ["n.csv", "line 4, column 'b'", "'abc' is not a finite number"]) { _ = try later.dataset(target: "y") }
        let empty = try CSVTable.parse(Array("a,y\n1,2\n,3\n".utf8), delimiter: ",", path: "e.csv")
        expectDataError(containing: ["e.csv", "line 3, column 'a'", "empty"]) { _ = try empty.dataset(target: "y") }
        let infinite = try CSVTable.parse(Array("a,y\n1,inf\n".utf8), delimiter: ",", path: "i.csv")
        expectDataError(containing: ["i.csv", "line 2, column 'y'", "not a finite number"]) { _ = try infinite.dataset(target: "y") }
    }

    @Test("an empty file, a header-only file and a missing file are clear errors")
    func emptyFiles() throws {
        let directory = try TemporaryDirectory()
        let empty = try directory.write("empty.csv", text: "")
        expectDataError(containing: [empty, "empty file", "header row"]) { _ = try CSVTable.read(path: empty) }
        let blank = try directory.write("blank.csv", text: "\n\n")
        expectDataError(containing: [blank, "empty file"]) { _ = try CSVTable.read(path: blank) }
        let header = try directory.write("header.csv", text: "a,b\n")
        expectDataError(containing: [header, "has a header (columns: a, b) but no data rows"]) { _ = try CSVTable.read(path: header) }
        let missing = directory.file("missing.csv")
        expectDataError(containing: [missing, "not found", "CSV file"]) { _ = try DataSource.resolve(missing).load(target: "a") }
    }

    @Test("loading a CSV source needs --target, holds out rows i % 5 == 4 and standardises with training statistics")
    func loadCSVSource() throws {
        let directory = try TemporaryDirectory()
        // Row i has features (i, 7) and target 10·i.
        let rows = (0..<12).map { "\($0),7,\($0 * 10)" }
        let path = try directory.write("rows.csv", text: "x,constant,y\n" + rows.joined(separator: "\n") + "\n")
        expectDataError(containing: [path, "--target", "'x', 'constant', 'y'"]) { _ = try DataSource.resolve(path).load() }

        let loaded = try DataSource.resolve(path).load(target: "y")
        #expect(loaded.split.train.targets == .values([0, 10, 20, 30, 50, 60, 70, 80, 100, 110]))
        #expect(loaded.split.test.targets == .values([40, 90]))
        let trainX: [Double] = [0, 1, 2, 3, 5, 6, 7, 8, 10, 11]
        let mean = trainX.reduce(0, +) / 10
        let std = (trainX.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 10).squareRoot()
        let standardization = try #require(loaded.standardization)
        assertClose(standardization.means, [Float(mean), 7])
        assertClose(standardization.standardDeviations, [Float(std), 1])
        // The test rows (4 and 9) are scaled with the training statistics, and the constant column becomes 0.
        assertClose(loaded.split.test.features, [Float((4 - mean) / std), 0, Float((9 - mean) / std), 0], rtol: 1e-5, atol: 1e-6)
        assertClose(loaded.split.train.features.enumerated().filter { $0.offset % 2 == 0 }.map(\.element), trainX.map { Float(($0 - mean) / std) })

        let tiny = try directory.write("tiny.csv", text: "x,y\n1,2\n3,4\n")
        expectDataError(containing: [tiny, "at least 5"]) { _ = try DataSource.resolve(tiny).load(target: "y") }
    }
}
