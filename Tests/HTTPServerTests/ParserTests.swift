import Glibc
import MOMCore
import Testing
@testable import HTTPServer

/// Parses `text` in one piece with a fresh parser.
func parseRequest(_ text: String, limits: HTTPParserLimits = HTTPParserLimits()) -> HTTPParseResult {
    parseRequest(bytes: Array(text.utf8), limits: limits)
}

func parseRequest(bytes: [UInt8], limits: HTTPParserLimits = HTTPParserLimits()) -> HTTPParseResult {
    var parser = HTTPRequestParser(limits: limits)
    return bytes.withUnsafeBufferPointer { parser.parse($0) }
}

func parsedRequest(_ result: HTTPParseResult) -> (HTTPRequest, Int)? {
    if case .request(let request, let consumed) = result { return (request, consumed) }
    return nil
}

func parseFailure(_ result: HTTPParseResult) -> HTTPParseError? {
    if case .failure(let error) = result { return error }
    return nil
}

func isIncomplete(_ result: HTTPParseResult) -> Bool {
    if case .incomplete = result { return true }
    return false
}

@Suite struct ParserTests {
    @Test func parsesRequestLineHeadersQueryAndBody() throws {
        let text = "POST /v1/topics/orders/records?offset=5&x=a%20b HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\ncontent-length: 7\r\nX-Empty:\r\n\r\n{\"a\":1}"
        let (request, consumed) = try #require(parsedRequest(parseRequest(text)))
        #expect(consumed == text.utf8.count)
        #expect(request.method == .post)
        #expect(request.path == "/v1/topics/orders/records")
        #expect(request.rawQuery == "offset=5&x=a%20b")
        #expect(request.isHTTP11)
        #expect(request.headers["CONTENT-TYPE"] == "application/json")
        #expect(request.headers["host"] == "localhost")
        #expect(request.headers["x-empty"] == "")
        #expect(request.headers.count == 4)
        #expect(String(decoding: request.body, as: UTF8.self) == "{\"a\":1}")
        #expect(try request.queryInteger("offset") == 5)
        #expect(try request.queryParameter("x") == "a b")
        #expect(request.wantsKeepAlive)
    }

    @Test func trimsOptionalWhitespaceAndKeepsRepeatedHeaders() throws {
        let text = "GET / HTTP/1.1\r\nA: \t one \t\r\na: two\r\n\r\n"
        let (request, _) = try #require(parsedRequest(parseRequest(text)))
        #expect(request.headers.values(named: "A") == ["one", "two"])
        #expect(request.body.isEmpty)
    }

    @Test func acceptsBareLineFeedsAndLeadingEmptyLines() throws {
        let text = "\r\n\nGET /x HTTP/1.0\nConnection: keep-alive\n\n"
        let (request, consumed) = try #require(parsedRequest(parseRequest(text)))
        #expect(request.path == "/x")
        #expect(!request.isHTTP11)
        #expect(request.wantsKeepAlive)
        #expect(consumed == text.utf8.count)
    }

    @Test func keepAliveRules() throws {
        let close = try #require(parsedRequest(parseRequest("GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n"))).0
        #expect(!close.wantsKeepAlive)
        let http10 = try #require(parsedRequest(parseRequest("GET / HTTP/1.0\r\n\r\n"))).0
        #expect(!http10.wantsKeepAlive)
    }

    @Test func absoluteFormAndAsteriskTargets() throws {
        let absolute = try #require(parsedRequest(parseRequest("GET http://example.com:80/a/b?q=1 HTTP/1.1\r\n\r\n"))).0
        #expect(absolute.path == "/a/b")
        #expect(absolute.rawQuery == "q=1")
        let bare = try #require(parsedRequest(parseRequest("GET http://example.com HTTP/1.1\r\n\r\n"))).0
        #expect(bare.path == "/")
        #expect(parsedRequest(parseRequest("OPTIONS * HTTP/1.1\r\n\r\n"))?.0.path == "*")
        #expect(parseFailure(parseRequest("GET * HTTP/1.1\r\n\r\n")) == .malformedTarget)
    }

    @Test func incrementalParsingByteByByte() throws {
        let text = Array("PUT /k HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /next HTTP/1.1\r\n\r\n".utf8)
        var parser = HTTPRequestParser()
        var result: HTTPParseResult = .incomplete
        var fed = 0
        while fed < text.count {
            fed += 1
            result = text[..<fed].withUnsafeBufferPointer { parser.parse($0) }
            if !isIncomplete(result) { break }
        }
        let (request, consumed) = try #require(parsedRequest(result))
        #expect(request.method == .put)
        #expect(request.body == Array("abc".utf8))
        #expect(consumed == fed)
        // The pipelined request after it parses from the rest.
        let rest = Array(text[consumed...])
        #expect(parsedRequest(rest.withUnsafeBufferPointer { parser.parse($0) })?.0.path == "/next")
    }

    @Test func reportsExpectContinueWhileBodyIsPending() {
        var parser = HTTPRequestParser()
        let head = Array("POST /p HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n".utf8)
        #expect(isIncomplete(head.withUnsafeBufferPointer { parser.parse($0) }))
        #expect(parser.isAwaitingBody)
        #expect(parser.pendingExpectsContinue)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", HTTPParseError.malformedHeader),
        ("GET / HTTP/1.1\r\n folded\r\n\r\n", .malformedHeader),
        ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", .malformedHeader),
        ("GET / HTTP/1.1\r\n: empty-name\r\n\r\n", .malformedHeader),
        ("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", .malformedHeader),
        ("GET / HTTP/1.1\r\nA: b\u{01}c\r\n\r\n", .malformedHeader),
        ("GET /  HTTP/1.1\r\n\r\n", .malformedRequestLine),
        ("GET / HTTP/1.1 \r\n\r\n", .malformedRequestLine),
        ("GET\r\n\r\n", .malformedRequestLine),
        ("G(T / HTTP/1.1\r\n\r\n", .malformedRequestLine),
        ("GET / HTTX/1.1\r\n\r\n", .malformedRequestLine),
        ("GET / HTTP/2.0\r\n\r\n", .unsupportedVersion),
        ("BREW /pot HTTP/1.1\r\n\r\n", .unsupportedMethod),
        ("GET nopath HTTP/1.1\r\n\r\n", .malformedTarget),
        ("GET /a#frag HTTP/1.1\r\n\r\n", .malformedTarget),
        ("GET /\u{7F} HTTP/1.1\r\n\r\n", .malformedTarget),
        ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", .invalidContentLength),
        ("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", .invalidContentLength),
        ("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", .invalidContentLength),
        ("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", .invalidContentLength),
        ("POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\n", .invalidContentLength),
        ("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n", .bodyTooLarge),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", .chunkedBodyNotSupported),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", .unsupportedTransferEncoding),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", .conflictingFraming),
    ])
    func rejectsMalformedRequests(text: String, expected: HTTPParseError) {
        #expect(parseFailure(parseRequest(text)) == expected)
    }

    @Test func acceptsRepeatedEqualContentLength() throws {
        let (request, _) = try #require(parsedRequest(parseRequest("POST / HTTP/1.1\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok")))
        #expect(request.body == Array("ok".utf8))
    }

    @Test func parseErrorsMapToStatuses() {
        #expect(HTTPParseError.headerSectionTooLarge.httpError.status.code == 431)
        #expect(HTTPParseError.bodyTooLarge.httpError.status.code == 413)
        #expect(HTTPParseError.requestLineTooLong.httpError.status.code == 414)
        #expect(HTTPParseError.chunkedBodyNotSupported.httpError.status.code == 411)
        #expect(HTTPParseError.unsupportedMethod.httpError.status.code == 501)
        #expect(HTTPParseError.unsupportedVersion.httpError.status.code == 505)
        #expect(HTTPParseError.malformedHeader.httpError.status.code == 400)
    }

    @Test func enforcesHeaderAndBodyLimits() {
        let limits = HTTPParserLimits(headerBytesMax: 64, bodyBytesMax: 10, headerFieldsMax: 3)
        let bigHeader = "GET / HTTP/1.1\r\nX: \(String(repeating: "a", count: 100))\r\n\r\n"
        #expect(parseFailure(parseRequest(bigHeader, limits: limits)) == .headerSectionTooLarge)
        // Fails before the terminator arrives, so a client cannot make the server buffer forever.
        let endless = "GET / HTTP/1.1\r\nX: \(String(repeating: "a", count: 100))"
        #expect(parseFailure(parseRequest(endless, limits: limits)) == .headerSectionTooLarge)
        let longLine = "GET /\(String(repeating: "a", count: 100))"
        #expect(parseFailure(parseRequest(longLine, limits: limits)) == .requestLineTooLong)
        let manyFields = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"
        #expect(parseFailure(parseRequest(manyFields, limits: limits)) == .headerSectionTooLarge)
        let bigBody = "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n"
        #expect(parseFailure(parseRequest(bigBody, limits: limits)) == .bodyTooLarge)
        let fits = "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789"
        #expect(parsedRequest(parseRequest(fits, limits: limits))?.0.body.count == 10)
    }

    @Test func queryDecoding() throws {
        let pairs = try QueryString.parse("a=1&b=%E2%82%AC&c&d=x+y&&e=%2B")
        #expect(pairs.map(\.name) == ["a", "b", "c", "d", "e"])
        #expect(pairs.map(\.value) == ["1", "€", "", "x y", "+"])
        #expect(throws: HTTPError.self) { try QueryString.parse("a=%G1") }
        #expect(throws: HTTPError.self) { try QueryString.parse("a=%4") }
        #expect(throws: HTTPError.self) { try QueryString.parse("a=%FF") }  // not UTF-8
        let request = HTTPRequest(method: .get, target: "/x?offset=abc")
        #expect(throws: HTTPError.self) { try request.queryInteger("offset") }
    }

    /// Seeded mutation fuzzing: every mutated input parses to a request, a typed failure or
    /// needs more bytes, never a trap. `MOM_SEED=<n>` replays one seed.
    @Test func mutatedInputsNeverTrap() {
        let seed = testSeed()
        var random = SeededRandom(seed: seed)
        let base = Array("POST /v1/topics/t/records?a=%20 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello".utf8)
        let interesting: [UInt8] = [0x00, 0x0A, 0x0D, 0x20, 0x3A, 0x25, 0x7F, 0xFF, 0x09, UInt8(ascii: "0")]
        let limits = HTTPParserLimits(headerBytesMax: 256, bodyBytesMax: 64, headerFieldsMax: 8)
        var outcomes = [0, 0, 0]
        for _ in 0..<3_000 {
            var input = base
            for _ in 0..<random.uniform(in: 1...4) {
                let position = Int(random.uniform(below: UInt64(input.count)))
                switch random.uniform(below: 3) {
                case 0: input[position] = interesting[Int(random.uniform(below: UInt64(interesting.count)))]
                case 1: input.remove(at: position)
                default: input.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                }
                if input.isEmpty { input = [0x0A] }
            }
            switch parseRequest(bytes: input, limits: limits) {
            case .incomplete: outcomes[0] += 1
            case .request(_, let consumed):
                outcomes[1] += 1
                #expect(consumed <= input.count, "seed \(seed)")
            case .failure: outcomes[2] += 1
            }
        }
        #expect(outcomes[2] > 0, "seed \(seed): mutations should produce some failures")
    }
}

/// The seed for a randomized test: `MOM_SEED` if set, otherwise a fresh one (printed).
func testSeed() -> UInt64 {
    if let text = getenv("MOM_SEED"), let seed = UInt64(String(cString: text)) { return seed }
    var random = SystemRandom()
    let seed = random.next()
    print("HTTPServerTests seed: \(seed) (replay with MOM_SEED=\(seed))")
    return seed
}
