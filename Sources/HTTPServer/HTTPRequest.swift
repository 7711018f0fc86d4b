/// One parsed HTTP/1.1 request, body included (bodies are framed by Content-Length and bounded
/// by `Limits.requestBodyBytesMax`, so a request is always whole before a handler sees it).
public struct HTTPRequest: Sendable {
    /// The request method.
    public var method: HTTPMethod
    /// The path part of the target, still percent-encoded (`/v1/topics/orders/records`).
    public var path: String
    /// The raw query (after `?`, without it), or nil when the target has none.
    public var rawQuery: String?
    /// The header fields, in the order received.
    public var headers: HTTPHeaders
    /// The body bytes (empty when there is none).
    public var body: [UInt8]
    /// Whether the client speaks HTTP/1.1 (false: HTTP/1.0).
    public var isHTTP11: Bool
    /// The values bound by the router to the pattern's `{name}` segments, percent-decoded.
    public internal(set) var pathParameters: [(name: String, value: String)] = []

    /// A request built in process, for tests and for handlers that forward.
    public init(
        method: HTTPMethod, path: String, rawQuery: String? = nil,
        headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], isHTTP11: Bool = true
    ) {
        self.method = method
        self.path = path
        self.rawQuery = rawQuery
        self.headers = headers
        self.body = body
        self.isHTTP11 = isHTTP11
    }

    /// Builds a request from a target such as `/v1/x?offset=3`, splitting path and query.
    public init(method: HTTPMethod, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        if let mark = target.firstIndex(of: "?") {
            self.init(method: method, path: String(target[..<mark]),
                      rawQuery: String(target[target.index(after: mark)...]), headers: headers, body: body)
        } else {
            self.init(method: method, path: target, headers: headers, body: body)
        }
    }

    /// The path and query as sent on the request line.
    public var target: String { rawQuery.map { "\(path)?\($0)" } ?? path }

    /// The value bound to `{name}` in the matched route pattern.
    public func pathParameter(_ name: String) -> String? {
        for parameter in pathParameters where parameter.name == name { return parameter.value }
        return nil
    }

    /// The decoded query parameters, in order. A malformed percent escape is a 400.
    public func queryParameters() throws(HTTPError) -> [(name: String, value: String)] {
        guard let rawQuery else { return [] }
        return try QueryString.parse(rawQuery)
    }

    /// The first decoded value of query parameter `name`, or nil.
    public func queryParameter(_ name: String) throws(HTTPError) -> String? {
        for parameter in try queryParameters() where parameter.name == name { return parameter.value }
        return nil
    }

    /// Query parameter `name` as an unsigned integer, or nil when absent; a value that is not a
    /// decimal integer is a 400 naming the parameter.
    public func queryInteger(_ name: String) throws(HTTPError) -> UInt64? {
        guard let text = try queryParameter(name) else { return nil }
        guard let value = UInt64(text) else {
            throw HTTPError(.badRequest, code: "invalid_parameter",
                            message: "query parameter '\(name)' must be a non-negative integer, got '\(text)'")
        }
        return value
    }

    /// Whether the connection stays open after this request (RFC 9112 §9.3): HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    public var wantsKeepAlive: Bool {
        if isHTTP11 { return !headers.containsToken("close", inFieldNamed: "connection") }
        return headers.containsToken("keep-alive", inFieldNamed: "connection")
    }
}

/// `application/x-www-form-urlencoded`-style query decoding: `&`-separated pairs, `+` as space,
/// `%XX` escapes. Decoded bytes must be valid UTF-8.
public enum QueryString {
    /// Splits and decodes `query`. Throws a 400 naming the bad escape.
    public static func parse(_ query: String) throws(HTTPError) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        for pair in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                let name = try percentDecode(pair[..<equals], plusIsSpace: true)
                let value = try percentDecode(pair[pair.index(after: equals)...], plusIsSpace: true)
                result.append((name, value))
            } else {
                result.append((try percentDecode(pair, plusIsSpace: true), ""))
            }
        }
        return result
    }

    /// Decodes `%XX` escapes (and `+` when `plusIsSpace`). Throws a 400 for a truncated or
    /// non-hex escape, or for bytes that are not UTF-8.
    public static func percentDecode<C: Collection<UInt8>>(_ encoded: C, plusIsSpace: Bool) throws(HTTPError) -> String {
        if !encoded.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) {
            return try validatedString(encoded)
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(encoded.count)
        var index = encoded.startIndex
        while index != encoded.endIndex {
            let byte = encoded[index]
            index = encoded.index(after: index)
            if byte == UInt8(ascii: "+") && plusIsSpace {
                decoded.append(0x20)
            } else if byte == UInt8(ascii: "%") {
                guard index != encoded.endIndex, let high = hexValue(encoded[index]) else { throw badEscape() }
                index = encoded.index(after: index)
                guard index != encoded.endIndex, let low = hexValue(encoded[index]) else { throw badEscape() }
                index = encoded.index(after: index)
                decoded.append(high << 4 | low)
            } else {
                decoded.append(byte)
            }
        }
        return try validatedString(decoded)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func validatedString<C: Collection<UInt8>>(_ bytes: C) throws(HTTPError) -> String {
        guard UTF8Validation.isValid(bytes) else {
            throw HTTPError(.badRequest, code: "bad_request", message: "percent-decoded text is not valid UTF-8")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func badEscape() -> HTTPError {
        HTTPError(.badRequest, code: "bad_request", message: "malformed percent escape: '%' must be followed by two hex digits")
    }
}
