/// Parses one HTTP/1.1 response for `HTTPClient`. Bodies are framed by Content-Length, absent
/// (HEAD, 1xx, 204, 304), or delimited by connection close; chunked responses are refused
/// (MOM's server never sends them).
struct HTTPResponseParser {
    enum Outcome {
        case incomplete
        /// The response, the bytes it used, and whether the server keeps the connection open.
        case response(HTTPResponse, consumedBytes: Int, keepAlive: Bool)
        case failure(String)
    }

    let headerBytesMax: Int
    let bodyBytesMax: Int

    /// A response's status line and headers, and where its body starts.
    struct Head {
        let status: HTTPStatus
        let headers: HTTPHeaders
        let headEnd: Int
        let keepAlive: Bool
    }

    enum HeadOutcome {
        case incomplete
        case head(Head)
        case failure(String)
    }

    /// Parses from the start of `input`. `endOfStream` says the peer has closed, which ends a
    /// close-delimited body. `isHead` means no body follows whatever the headers say.
    func parse(_ input: UnsafeBufferPointer<UInt8>, endOfStream: Bool, isHead: Bool) -> Outcome {
        let head: Head
        switch parseHead(input, endOfStream: endOfStream) {
        case .incomplete: return .incomplete
        case .failure(let reason): return .failure(reason)
        case .head(let parsed): head = parsed
        }
        if isHead || head.status.forbidsBody {
            return .response(HTTPResponse(status: head.status, headers: head.headers), consumedBytes: head.headEnd, keepAlive: head.keepAlive)
        }
        if head.headers.contains("transfer-encoding") { return .failure("chunked responses are not supported") }
        return body(input, headEnd: head.headEnd, status: head.status, headers: head.headers, keepAlive: head.keepAlive, endOfStream: endOfStream)
    }

    /// The status line and headers alone, as soon as they have arrived (the body may not have).
    func parseHead(_ input: UnsafeBufferPointer<UInt8>, endOfStream: Bool) -> HeadOutcome {
        guard let headEnd = Self.findHeadEnd(input, limit: headerBytesMax) else {
            if input.count > headerBytesMax { return .failure("response header section exceeds \(headerBytesMax) bytes") }
            return endOfStream && !input.isEmpty ? .failure("connection closed inside the response head") : .incomplete
        }
        var lines = LineCursor(UnsafeBufferPointer(rebasing: input[..<headEnd]))
        guard let statusLine = lines.next(), let (status, isHTTP11) = Self.parseStatusLine(statusLine) else {
            return .failure("malformed status line")
        }
        var headers = HTTPHeaders()
        while let line = lines.next(), !line.isEmpty {
            guard let (name, value) = HTTPRequestParser.parseField(line) else { return .failure("malformed response header") }
            headers.appendValidated(name: name, value: value)
        }
        if lines.failed { return .failure("malformed response header") }
        let keepAlive = isHTTP11
            ? !headers.containsToken("close", inFieldNamed: "connection")
            : headers.containsToken("keep-alive", inFieldNamed: "connection")
        return .head(Head(status: status, headers: headers, headEnd: headEnd, keepAlive: keepAlive))
    }

    private func body(
        _ input: UnsafeBufferPointer<UInt8>, headEnd: Int, status: HTTPStatus, headers: HTTPHeaders, keepAlive: Bool, endOfStream: Bool
    ) -> Outcome {
        guard let lengthText = headers["content-length"] else {
            // Close-delimited: everything until the server closes.
            if input.count - headEnd > bodyBytesMax { return .failure("response body exceeds \(bodyBytesMax) bytes") }
            guard endOfStream else { return .incomplete }
            let body = Array(UnsafeBufferPointer(rebasing: input[headEnd...]))
            return .response(HTTPResponse(status: status, headers: headers, body: body), consumedBytes: input.count, keepAlive: false)
        }
        guard let length = Int(lengthText), length >= 0 else { return .failure("invalid Content-Length '\(lengthText)'") }
        if length > bodyBytesMax { return .failure("response body of \(length) bytes exceeds \(bodyBytesMax) bytes") }
        guard input.count - headEnd >= length else {
            return endOfStream ? .failure("connection closed inside the response body") : .incomplete
        }
        let body = Array(UnsafeBufferPointer(rebasing: input[headEnd..<(headEnd + length)]))
        return .response(HTTPResponse(status: status, headers: headers, body: body), consumedBytes: headEnd + length, keepAlive: keepAlive)
    }

    /// `HTTP/1.x SP 3DIGIT SP reason`.
    private static func parseStatusLine(_ line: UnsafeBufferPointer<UInt8>) -> (HTTPStatus, Bool)? {
        guard line.count >= 12, let isHTTP11 = HTTPSyntax.parseVersion(UnsafeBufferPointer(rebasing: line[..<8])),
              line[8] == 0x20, HTTPSyntax.isDigit(line[9]), HTTPSyntax.isDigit(line[10]), HTTPSyntax.isDigit(line[11]),
              line.count == 12 || line[12] == 0x20 else { return nil }
        let code = Int(line[9] - 48) * 100 + Int(line[10] - 48) * 10 + Int(line[11] - 48)
        guard code >= 100 else { return nil }
        return (HTTPStatus(code: code), isHTTP11)
    }

    private static func findHeadEnd(_ input: UnsafeBufferPointer<UInt8>, limit: Int) -> Int? {
        var index = 1
        let end = min(input.count, limit + 4)
        while index < end {
            if input[index] == 0x0A {
                if input[index - 1] == 0x0A { return index + 1 }
                if input[index - 1] == 0x0D && index >= 2 && input[index - 2] == 0x0A { return index + 1 }
            }
            index += 1
        }
        return nil
    }
}
