/// One HTTP/1.1 request as the client sends it. Why our own type: MOMClient speaks a small,
/// fixed subset of HTTP (Content-Length bodies, keep-alive) and avoids FoundationNetworking.
struct HTTPRequestMessage: Sendable {
    var method: String
    /// Path plus query, already percent-encoded (`/v1/topics/orders/partitions/0/records?offset=5`).
    var target: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    /// The wire bytes. `Host` and `Content-Length` are always present so any HTTP/1.1 server
    /// can frame the request; bodiless requests send `Content-Length: 0` only for POST/PUT.
    func serialized(host: ServerAddress) -> [UInt8] {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\n"
        for header in headers { text += "\(header.name): \(header.value)\r\n" }
        if !body.isEmpty || method == "POST" || method == "PUT" {
            text += "Content-Length: \(body.count)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8) + body
    }
}

/// One HTTP/1.1 response as received.
struct HTTPResponseMessage: Sendable {
    var status: Int
    /// Header names lowercased, in arrival order.
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    /// False when the server said `Connection: close` or framed the body by closing.
    var keepAlive: Bool

    /// The first value of a header, by case-insensitive name.
    func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name == wanted }?.value
    }
}

/// How the response body is delimited, decided from the head (RFC 9112 §6.3).
enum HTTPBodyFraming: Equatable {
    case none
    case contentLength(Int)
    case untilClose
}

/// A parsed status line plus headers.
struct HTTPResponseHead {
    var status: Int
    var headers: [(name: String, value: String)]
    var framing: HTTPBodyFraming
    var keepAlive: Bool

    /// Parses the bytes before the blank line (without the final CRLFCRLF). Pure, so tests can
    /// feed it anything; a malformed head is `.decoding`, never a trap.
    static func parse(_ bytes: ArraySlice<UInt8>, requestMethod: String) throws(MOMClientError) -> HTTPResponseHead {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .decoding("the response head is not valid UTF-8")
        }
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        guard let statusLine = lines.popFirst() else { throw .decoding("empty response head") }
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3,
              let status = Int(parts[1]), (100...599).contains(status)
        else { throw .decoding("bad status line '\(statusLine.prefix(80))'") }
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw .decoding("bad header line '\(line.prefix(80))'")
            }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces()
            headers.append((name, value))
        }
        let connection = headers.first { $0.name == "connection" }?.value.lowercased()
        var keepAlive = parts[0] == "HTTP/1.1" ? connection != "close" : connection == "keep-alive"
        let framing = try framingOf(status: status, headers: headers, requestMethod: requestMethod)
        if framing == .untilClose { keepAlive = false }
        return HTTPResponseHead(status: status, headers: headers, framing: framing, keepAlive: keepAlive)
    }

    private static func framingOf(
        status: Int, headers: [(name: String, value: String)], requestMethod: String
    ) throws(MOMClientError) -> HTTPBodyFraming {
        if requestMethod == "HEAD" || status == 204 || status == 304 || status < 200 { return .none }
        if headers.contains(where: { $0.name == "transfer-encoding" }) {
            throw .decoding("Transfer-Encoding is not supported by MOMClient; the broker frames bodies with Content-Length")
        }
        let lengths = headers.filter { $0.name == "content-length" }.map(\.value)
        guard let first = lengths.first else { return .untilClose }
        guard lengths.allSatisfy({ $0 == first }), let length = Int(first), length >= 0 else {
            throw .decoding("bad Content-Length '\(first)'")
        }
        return .contentLength(length)
    }
}

extension Substring {
    /// Drops leading and trailing spaces and tabs (header optional whitespace).
    func trimmingSpaces() -> String {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
