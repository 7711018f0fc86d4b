import Foundation
import MOMCore
import Testing
@testable import MOMClient

/// Parsing and policy pieces without sockets.
@Suite struct PureTests {
    @Test func parsesServerAddresses() throws {
        #expect(try ServerAddress(parsing: "127.0.0.1:8080") == ServerAddress(host: "127.0.0.1", port: 8080))
        #expect(try ServerAddress(parsing: "http://localhost:9/") == ServerAddress(host: "localhost", port: 9))
        #expect(try ServerAddress(url: URL(string: "http://127.0.0.1:81")!) == ServerAddress(host: "127.0.0.1", port: 81))
        for bad in ["", "host", ":80", "h:0", "h:99999", "https://h:1", "h:1/path/x:2x"] {
            #expect(throws: MOMClientError.self) { _ = try ServerAddress(parsing: bad) }
        }
    }

    @Test func backoffGrowsStaysBoundedAndHonoursRetryAfter() {
        let policy = RetryPolicy(attemptsMax: 10, totalMilliseconds: 1000, backoffInitialMilliseconds: 10, backoffMillisecondsMax: 100)
        var random = SeededRandom(seed: 99)
        for retry in 0..<64 {
            let cap = min(UInt64(10) << UInt64(min(retry, 30)), 100)
            let value = policy.backoffMilliseconds(retry: retry, retryAfterSeconds: nil, unit: random.unitDouble())
            #expect(value >= cap / 2 && value <= cap, "retry \(retry): \(value) outside [\(cap / 2), \(cap)]")
        }
        #expect(policy.backoffMilliseconds(retry: 0, retryAfterSeconds: 1, unit: 0) == 100)
    }

    @Test func parsesResponseHeads() throws {
        let ok = try HTTPResponseHead.parse(ArraySlice("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b ".utf8), requestMethod: "GET")
        #expect(ok.status == 200 && ok.framing == .contentLength(5) && ok.keepAlive)
        let close = try HTTPResponseHead.parse(ArraySlice("HTTP/1.1 503 U\r\nConnection: close\r\nContent-Length: 0".utf8), requestMethod: "GET")
        #expect(!close.keepAlive)
        let noContent = try HTTPResponseHead.parse(ArraySlice("HTTP/1.1 204 No Content".utf8), requestMethod: "DELETE")
        #expect(noContent.framing == .none)
        let untilClose = try HTTPResponseHead.parse(ArraySlice("HTTP/1.1 200 OK".utf8), requestMethod: "GET")
        #expect(untilClose.framing == .untilClose && !untilClose.keepAlive)
        for bad in ["HTTP/1.1 2000 X", "SIP/2.0 200 OK", "HTTP/1.1 200 OK\r\nContent-Length: -1",
                    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2", "HTTP/1.1 200 OK\r\nnocolon",
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"] {
            #expect(throws: MOMClientError.self) { _ = try HTTPResponseHead.parse(ArraySlice(bad.utf8), requestMethod: "GET") }
        }
    }

    @Test func outgoingRecordsPickTextOrBase64() throws {
        let text = try JSONSerialization.jsonObject(with: Data(JSONWire.encode(OutgoingRecord(key: "é", value: "ü")))) as? [String: Any]
        #expect(text?["key"] as? String == "é" && text?["value"] as? String == "ü")
        let binary = try JSONSerialization.jsonObject(with: Data(JSONWire.encode(OutgoingRecord(key: [0xc3], value: [])))) as? [String: Any]
        #expect(binary?["key_base64"] as? String == "ww==")
        #expect(binary?["value"] as? String == "")
    }

    @Test func namesArePercentEncodedInPaths() throws {
        #expect(try PathSegment.encode("a/b?c") == "a%2Fb%3Fc")
        #expect(throws: MOMClientError.self) { _ = try PathSegment.encode("") }
    }
}
