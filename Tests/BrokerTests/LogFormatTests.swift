import Testing
@testable import Broker

/// The log line format (docs/operations.md): values that could forge a line or a field are
/// quoted and escaped; plain values stay bare.
@Suite struct LogFormatTests {
    @Test func plainValuesStayBare() {
        #expect(Log.quote("127.0.0.1:8080") == "127.0.0.1:8080")
        #expect(Log.quote("node-1") == "node-1")
        // A backslash alone is literal outside quotes (logfmt); inside quotes it is escaped.
        #expect(Log.quote("back\\slash") == "back\\slash")
    }

    @Test(arguments: [
        ("", #""""#),
        ("two words", #""two words""#),
        ("a=b", #""a=b""#),
        ("say \"hi\"", #""say \"hi\"""#),
        ("back\\slash here", #""back\\slash here""#),
        ("x\nlevel=error msg=forged", #""x\nlevel=error msg=forged""#),
        ("carriage\rreturn\ttab", #""carriage\rreturn\ttab""#),
        ("escape\u{1B}[31mred", #""escape\u{1b}[31mred""#),
        ("naïve", #""naïve""#),
    ])
    func valuesThatNeedQuotingAreEscaped(_ testCase: (String, String)) {
        let quoted = Log.quote(testCase.0)
        #expect(quoted == testCase.1)
        #expect(!quoted.contains("\n") && !quoted.contains("\r") && !quoted.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test func timestampIsRFC3339UTCWithMilliseconds() {
        let stamp = Array(Log.timestamp().utf8)
        #expect(stamp.count == 24, "\(Log.timestamp())")
        let shape = Array("0000-00-00T00:00:00.000Z".utf8)
        for (byte, expected) in zip(stamp, shape) {
            if expected == UInt8(ascii: "0") {
                #expect((UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte))
            } else {
                #expect(byte == expected)
            }
        }
    }
}
