import Testing
@testable import HTTPServer

@Suite struct SerializerTests {
    func serialize(_ response: HTTPResponse, keepAlive: Bool = true, isHTTP10: Bool = false, omitBody: Bool = false) -> String {
        var buffer: [UInt8] = []
        HTTPResponseSerializer.append(response, keepAlive: keepAlive, isHTTP10: isHTTP10, omitBody: omitBody, to: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    @Test func writesStatusHeadersLengthAndBody() {
        let text = serialize(.text(.ok, "hello"))
        #expect(text == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello")
    }

    @Test func closeAndHTTP10KeepAlive() {
        #expect(serialize(HTTPResponse(status: .notFound), keepAlive: false)
            == "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        #expect(serialize(HTTPResponse(status: .ok), isHTTP10: true)
            == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")
    }

    @Test func noBodyFor204AndHead() {
        #expect(serialize(HTTPResponse(status: .noContent, body: [1, 2])) == "HTTP/1.1 204 No Content\r\n\r\n")
        #expect(serialize(.text(.ok, "abc"), omitBody: true).hasSuffix("Content-Length: 3\r\n\r\n"))
    }

    @Test func appendsSeveralResponsesToOneBuffer() {
        var buffer: [UInt8] = []
        HTTPResponseSerializer.append(HTTPResponse(status: .ok, body: [65]), keepAlive: true, to: &buffer)
        HTTPResponseSerializer.append(HTTPResponse(status: HTTPStatus(code: 299), body: [66]), keepAlive: true, to: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self)
            == "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 299 Status 299\r\nContent-Length: 1\r\n\r\nB")
    }

    @Test func headerValuesCannotInjectLines() {
        var headers = HTTPHeaders()
        headers.add(name: "Location", value: "/x\r\nSet-Cookie: evil")
        let text = serialize(HTTPResponse(status: .temporaryRedirect, headers: headers))
        #expect(text.contains("Location: /x  Set-Cookie: evil\r\n"))
    }

    @Test func dateLineUnlessTheResponseHasOne() {
        let dateLine = HTTPDate.headerLine(unixSeconds: 0)
        var plain: [UInt8] = []
        HTTPResponseSerializer.append(HTTPResponse(status: .ok), keepAlive: true, isHTTP10: false, omitBody: false, dateLine: dateLine, to: &plain)
        #expect(String(decoding: plain, as: UTF8.self) == "HTTP/1.1 200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nContent-Length: 0\r\n\r\n")
        var forwarded: [UInt8] = []
        let response = HTTPResponse(status: .ok, headers: HTTPHeaders([("Date", "Sun, 06 Nov 1994 08:49:37 GMT")]))
        HTTPResponseSerializer.append(response, keepAlive: true, isHTTP10: false, omitBody: false, dateLine: dateLine, to: &forwarded)
        #expect(String(decoding: forwarded, as: UTF8.self) == "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n")
    }

    @Test func decimalFormatting() {
        for value in [0, 7, 10, 99, 12345, Int.max] {
            var buffer: [UInt8] = []
            HTTPResponseSerializer.appendDecimal(value, to: &buffer)
            #expect(String(decoding: buffer, as: UTF8.self) == String(value))
        }
    }

    @Test func errorsRenderAsJSONWithStatus() throws {
        let response = HTTPResponse(error: HTTPError.notFound("topic 'x' does not exist"))
        #expect(response.status == .notFound)
        #expect(String(decoding: response.body, as: UTF8.self)
            == #"{"error":{"code":"not_found","message":"topic 'x' does not exist"}}"#)
        #expect(response.headers["content-type"] == "application/json")

        let unavailable = HTTPResponse(error: HTTPError.serviceUnavailable("no leader for partition 0", retryAfterSeconds: 2))
        #expect(unavailable.status.code == 503)
        #expect(unavailable.headers["Retry-After"] == "2")

        struct Internal: Error {}
        let generic = HTTPResponse(error: Internal())
        #expect(generic.status.code == 500)
        let body = try JSONValue(parsing: generic.body)
        #expect(body["error"]?["code"]?.stringValue == "internal_error")
    }
}

@Suite struct HeaderAndDateTests {
    @Test func imfFixdateVectors() {
        #expect(HTTPDate.imfFixdate(unixSeconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")  // RFC 9110's example
        #expect(HTTPDate.imfFixdate(unixSeconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.imfFixdate(unixSeconds: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(HTTPDate.imfFixdate(unixSeconds: 1_767_225_599) == "Wed, 31 Dec 2025 23:59:59 GMT")
    }

    @Test func removesHopByHopFieldsForForwarding() {
        let headers = HTTPHeaders([
            ("Host", "a"), ("Connection", "close, X-Private"), ("X-Private", "1"), ("Keep-Alive", "timeout=5"),
            ("Content-Length", "3"), ("Authorization", "Bearer t"), ("Content-Type", "application/json"),
        ])
        let forwarded = headers.removingHopByHopFields()
        #expect(forwarded.map(\.name) == ["Authorization", "Content-Type"])
    }

    @Test func lookupIsCaseInsensitiveAndSetReplaces() {
        var headers = HTTPHeaders([("X-A", "1"), ("x-a", "2"), ("B", "3")])
        #expect(headers["x-A"] == "1")
        #expect(headers.values(named: "X-A") == ["1", "2"])
        headers.set(name: "X-a", value: "9")
        #expect(headers.values(named: "x-a") == ["9"])
        #expect(headers["b"] == "3")
        headers.remove(name: "B")
        #expect(!headers.contains("b"))
        #expect(headers.count == 1)
    }
}
