import Testing
@testable import momctl

@Suite("momctl standard input lines and batches")
struct LineSplitterTests {
    private func text(_ lines: [[UInt8]]) -> [String] { lines.map { String(decoding: $0, as: UTF8.self) } }

    @Test("lines split across chunks, CRLF and a last line without newline")
    func splitting() throws {
        var splitter = LineSplitter(lineBytesMaximum: 10)
        #expect(text(try splitter.feed(Array("ab\ncd".utf8))) == ["ab"])
        #expect(text(try splitter.feed(Array("e\r\n\nf".utf8))) == ["cde", ""])
        #expect(text([try #require(try splitter.finish())]) == ["f"])
        #expect(try splitter.finish() == nil)
    }

    @Test("a line over the bound is refused with its number; exactly the bound is fine")
    func bound() throws {
        var splitter = LineSplitter(lineBytesMaximum: 3)
        #expect(text(try splitter.feed(Array("abc\nab\r\n".utf8))) == ["abc", "ab"])
        #expect(throws: LineSplitter.LineTooLong(lineNumber: 3, bytesMaximum: 3)) { try splitter.feed(Array("abcd\n".utf8)) }
        var unterminated = LineSplitter(lineBytesMaximum: 3)
        _ = try unterminated.feed(Array("abcd".utf8))
        #expect(throws: LineSplitter.LineTooLong.self) { try unterminated.finish() }
    }

    @Test("batches are bounded in records and bytes; a lone big record still goes")
    func batches() {
        var batch = BatchBuilder<Int>(recordsMaximum: 2, bytesMaximum: 10)
        #expect(!batch.wouldOverflow(adding: 100))
        batch.append(1, size: 4)
        #expect(!batch.wouldOverflow(adding: 6))
        #expect(batch.wouldOverflow(adding: 7))
        batch.append(2, size: 6)
        #expect(batch.wouldOverflow(adding: 0))
        #expect(batch.take() == [1, 2])
        #expect(batch.records.isEmpty && batch.bytes == 0)
    }
}
