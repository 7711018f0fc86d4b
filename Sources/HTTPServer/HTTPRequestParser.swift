/// Bounds on what the parser accepts; taken from `Limits` by the server.
public struct HTTPParserLimits: Sendable {
    /// Request line plus header fields, in bytes (`Limits.requestHeaderBytesMax`).
    public var headerBytesMax: Int
    /// Declared Content-Length, in bytes (`Limits.requestBodyBytesMax`).
    public var bodyBytesMax: Int
    /// Number of header fields; a second guard against many tiny fields.
    public var headerFieldsMax: Int

    public init(headerBytesMax: Int = 16 << 10, bodyBytesMax: Int = 32 << 20, headerFieldsMax: Int = 128) {
        precondition(headerBytesMax > 0 && bodyBytesMax >= 0 && headerFieldsMax > 0, "parser limits must be positive")
        self.headerBytesMax = headerBytesMax
        self.bodyBytesMax = bodyBytesMax
        self.headerFieldsMax = headerFieldsMax
    }
}

/// The outcome of feeding bytes to the parser.
public enum HTTPParseResult: Sendable {
    /// More bytes are needed; call again with the same bytes plus what arrives next.
    case incomplete
    /// One whole request; the first `consumedBytes` of the input belong to it.
    case request(HTTPRequest, consumedBytes: Int)
    /// The input is not a valid request; answer with `error.httpError` and close.
    case failure(HTTPParseError)
}

/// An incremental HTTP/1.1 request parser (RFC 9112), total: every input yields `.incomplete`,
/// a request, or a typed failure, never a trap.
///
/// The caller keeps unconsumed bytes and passes them all again, starting at the first
/// unconsumed byte, whenever more arrive. The parser remembers how far it has scanned, so a
/// slowly arriving header section is not rescanned from the start each time.
///
/// Accepted leniencies: bare LF line endings and leading empty lines (RFC 9112 §2.2), an
/// absolute-form target (its authority is ignored), and a missing Host header.
public struct HTTPRequestParser: Sendable {
    public let limits: HTTPParserLimits
    /// How many input bytes have been searched for the end of the header section.
    private var scannedBytes = 0
    /// A parsed head waiting for its body: the request, head length and body length.
    private var pending: (request: HTTPRequest, headBytes: Int, bodyBytes: Int)?
    /// Whether the pending request sent `Expect: 100-continue` (the server answers 100 once).
    public private(set) var pendingExpectsContinue = false

    public init(limits: HTTPParserLimits = HTTPParserLimits()) { self.limits = limits }

    /// Whether a request head has been seen and its body is still arriving.
    public var isAwaitingBody: Bool { pending != nil }

    /// Whether any bytes of an unfinished request have been seen (for the header timeout).
    public var hasPartialHead: Bool { scannedBytes > 0 }

    /// Parses the request at the start of `input`.
    public mutating func parse(_ input: UnsafeBufferPointer<UInt8>) -> HTTPParseResult {
        if let pending {
            let total = pending.headBytes + pending.bodyBytes
            guard input.count >= total else { return .incomplete }
            var request = pending.request
            request.body = Array(UnsafeBufferPointer(rebasing: input[pending.headBytes..<total]))
            reset()
            return .request(request, consumedBytes: total)
        }
        let start = Self.skipLeadingEmptyLines(input)
        guard let headEnd = findHeadEnd(input, from: start) else {
            scannedBytes = input.count
            if input.count - start > limits.headerBytesMax {
                let hasRequestLine = input[start..<(start + limits.headerBytesMax)].contains(0x0A)
                return .failure(hasRequestLine ? .headerSectionTooLarge : .requestLineTooLong)
            }
            return .incomplete
        }
        if headEnd - start > limits.headerBytesMax { return .failure(.headerSectionTooLarge) }
        let head: (request: HTTPRequest, bodyBytes: Int, expectsContinue: Bool)
        switch parseHead(UnsafeBufferPointer(rebasing: input[start..<headEnd])) {
        case .success(let parsed): head = parsed
        case .failure(let error): return .failure(error)
        }
        pending = (head.request, headEnd, head.bodyBytes)
        pendingExpectsContinue = head.expectsContinue && head.bodyBytes > 0
        scannedBytes = headEnd
        return parse(input)
    }

    /// Forgets all state, for a new request.
    public mutating func reset() {
        scannedBytes = 0
        pending = nil
        pendingExpectsContinue = false
    }

    /// Skips CRLF / LF pairs before the request line (RFC 9112 §2.2 "SHOULD ignore").
    private static func skipLeadingEmptyLines(_ input: UnsafeBufferPointer<UInt8>) -> Int {
        var index = 0
        while true {
            if index < input.count && input[index] == 0x0A {
                index += 1
            } else if index + 1 < input.count && input[index] == 0x0D && input[index + 1] == 0x0A {
                index += 2
            } else {
                return index
            }
        }
    }

    /// The index just past the empty line ending the head, or nil if it has not arrived.
    private func findHeadEnd(_ input: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        // Resume a little before where the last scan stopped: the terminator may straddle reads.
        var index = max(start + 1, scannedBytes - 3)
        // Bounded by the header budget: beyond it the caller fails anyway.
        let limit = min(input.count, start + limits.headerBytesMax + 4)
        while index < limit {
            if input[index] == 0x0A {
                if input[index - 1] == 0x0A { return index + 1 }
                if input[index - 1] == 0x0D && index - 2 >= start && input[index - 2] == 0x0A { return index + 1 }
            }
            index += 1
        }
        return nil
    }

    private typealias Head = (request: HTTPRequest, bodyBytes: Int, expectsContinue: Bool)

    /// Parses the request line and header fields of a complete head.
    private func parseHead(_ head: UnsafeBufferPointer<UInt8>) -> Result<Head, HTTPParseError> {
        var lines = LineCursor(head)
        guard let requestLine = lines.next() else { return .failure(.malformedRequestLine) }
        let request: HTTPRequest
        switch Self.parseRequestLine(requestLine) {
        case .success(let parsed): request = parsed
        case .failure(let error): return .failure(error)
        }
        var headers = HTTPHeaders()
        headers.reserve(bytes: head.count, fields: 16)
        while let line = lines.next() {
            if line.isEmpty { break }
            guard headers.count < limits.headerFieldsMax else { return .failure(.headerSectionTooLarge) }
            guard let (name, value) = Self.parseField(line) else { return .failure(.malformedHeader) }
            headers.appendValidated(name: name, value: value)
        }
        if lines.failed { return .failure(.malformedHeader) }
        var complete = request
        complete.headers = headers
        switch framing(headers) {
        case .failure(let error): return .failure(error)
        case .success(let bodyBytes):
            let expectsContinue = headers.containsToken("100-continue", inFieldNamed: "expect")
            return .success((complete, bodyBytes, expectsContinue))
        }
    }

    /// `METHOD SP request-target SP HTTP-version`.
    private static func parseRequestLine(_ line: UnsafeBufferPointer<UInt8>) -> Result<HTTPRequest, HTTPParseError> {
        guard let firstSpace = line.firstIndex(of: 0x20) else { return .failure(.malformedRequestLine) }
        guard let secondSpace = line[(firstSpace + 1)...].firstIndex(of: 0x20) else { return .failure(.malformedRequestLine) }
        let methodToken = UnsafeBufferPointer(rebasing: line[..<firstSpace])
        let target = UnsafeBufferPointer(rebasing: line[(firstSpace + 1)..<secondSpace])
        let version = UnsafeBufferPointer(rebasing: line[(secondSpace + 1)...])
        guard !methodToken.isEmpty, methodToken.allSatisfy(HTTPSyntax.isTokenByte) else { return .failure(.malformedRequestLine) }
        let isHTTP11: Bool
        switch HTTPSyntax.parseVersion(version) {
        case .some(let parsed): isHTTP11 = parsed
        case .none:
            return .failure(HTTPSyntax.looksLikeVersion(version) ? .unsupportedVersion : .malformedRequestLine)
        }
        guard let method = HTTPMethod(token: methodToken) else { return .failure(.unsupportedMethod) }
        guard let (path, query) = HTTPSyntax.splitTarget(target, method: method) else { return .failure(.malformedTarget) }
        return .success(HTTPRequest(method: method, path: path, rawQuery: query, isHTTP11: isHTTP11))
    }

    /// `field-name ":" OWS field-value OWS`; nil if malformed.
    static func parseField(_ line: UnsafeBufferPointer<UInt8>) -> (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>)? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return nil }
        let name = UnsafeBufferPointer(rebasing: line[..<colon])
        guard name.allSatisfy(HTTPSyntax.isTokenByte) else { return nil }  // also rejects obs-fold and "name :"
        var low = colon + 1
        var high = line.count
        while low < high && (line[low] == 0x20 || line[low] == 0x09) { low += 1 }
        while high > low && (line[high - 1] == 0x20 || line[high - 1] == 0x09) { high -= 1 }
        let value = UnsafeBufferPointer(rebasing: line[low..<high])
        guard value.allSatisfy(HTTPSyntax.isFieldValueByte) else { return nil }
        return (name, value)
    }

    /// The body length from Content-Length / Transfer-Encoding (RFC 9112 §6.3).
    private func framing(_ headers: HTTPHeaders) -> Result<Int, HTTPParseError> {
        let hasTransferEncoding = headers.contains("transfer-encoding")
        var length: Int?
        var invalid = false
        headers.forEachValue(named: "content-length") { value in
            // A list such as "5, 5" is allowed when every member agrees (RFC 9110 §8.6).
            for member in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                let parsed = HTTPSyntax.parseDecimal(member, bodyBytesMax: limits.bodyBytesMax)
                if parsed == nil || (length != nil && length != parsed) { invalid = true }
                length = parsed
            }
        }
        if hasTransferEncoding {
            if length != nil || invalid { return .failure(.conflictingFraming) }
            return .failure(headers.containsToken("chunked", inFieldNamed: "transfer-encoding")
                ? .chunkedBodyNotSupported : .unsupportedTransferEncoding)
        }
        if invalid { return .failure(.invalidContentLength) }
        guard let length else { return .success(0) }
        if length == HTTPSyntax.tooLarge { return .failure(.bodyTooLarge) }
        return .success(length)
    }
}

/// Walks the lines of a header section. A line ends at LF; one CR before the LF is dropped.
/// A CR anywhere else marks the section as malformed (`failed`).
struct LineCursor {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private(set) var failed = false

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func next() -> UnsafeBufferPointer<UInt8>? {
        guard !failed, position < bytes.count else { return nil }
        guard let newline = bytes[position...].firstIndex(of: 0x0A) else { return nil }
        var end = newline
        if end > position && bytes[end - 1] == 0x0D { end -= 1 }
        let line = UnsafeBufferPointer(rebasing: bytes[position..<end])
        position = newline + 1
        if line.contains(0x0D) {
            failed = true
            return nil
        }
        return line
    }
}
