import Testing
@testable import HistoryChecker

@Suite struct HistoryFileTests {
    @Test func linesRoundTrip() throws {
        let events = HistoryBuilder.good().events
        var bytes: [UInt8] = []
        for event in events { bytes += HistoryFile.encodeLine(event) + [UInt8(ascii: "\n")] }
        #expect(try HistoryFile.decode(bytes) == events)
        let text = String(decoding: HistoryFile.encodeLine(events[1]), as: UTF8.self)
        #expect(text.contains("\"producer_id\":1"))
        #expect(text.contains("\"type\":\"ok\""))
    }

    @Test func tornLastLineIsToleratedButABadMiddleLineIsNot() throws {
        let good = HistoryFile.encodeLine(HistoryBuilder.good().events[0])
        let torn = good + [UInt8(ascii: "\n")] + Array(good.prefix(10))
        #expect(try HistoryFile.decode(torn).count == 1)
        let broken = Array(good.prefix(10)) + [UInt8(ascii: "\n")] + good + [UInt8(ascii: "\n")]
        #expect(throws: HistoryFile.DecodeError.self) { try HistoryFile.decode(broken) }
    }

    @Test func unknownEventTypeIsRefused() {
        let line = Array("{\"type\":\"bogus\"}\n{\"type\":\"ok\"}\n".utf8)
        #expect(throws: HistoryFile.DecodeError.self) { try HistoryFile.decode(line) }
    }
}
