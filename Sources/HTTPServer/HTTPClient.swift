import MOMCore
import SystemIO

/// Why a client request failed.
public enum HTTPClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The TCP connection could not be made.
    case connectFailed(Errno)
    /// The whole exchange did not finish within the timeout.
    case timedOut
    /// The server closed the connection before a whole response arrived.
    case connectionClosed
    /// A socket error mid-exchange.
    case io(Errno)
    /// The response is not valid HTTP/1.1, or exceeds the size bounds.
    case malformedResponse(String)
    /// The client pool's queue is full (the caller should answer 503).
    case overloaded

    public var description: String {
        switch self {
        case .connectFailed(let errno): "connect failed: \(errno)"
        case .timedOut: "timed out"
        case .connectionClosed: "connection closed before a whole response arrived"
        case .io(let errno): "socket error: \(errno)"
        case .malformedResponse(let reason): "malformed response: \(reason)"
        case .overloaded: "client queue full"
        }
    }
}

/// A blocking HTTP/1.1 client over one keep-alive connection: for tests, mom-bench, and the
/// workers of `HTTPClientPool`. Not thread-safe: one thread uses one client.
///
/// Each request has a deadline (`timeoutMilliseconds` for the whole exchange); responses are
/// bounded by `responseBytesMax`. A connection the server closed while idle is detected before
/// sending and replaced; a request that fails on a reused connection before any response byte
/// arrives is retried once on a fresh one only if its method is idempotent.
public final class HTTPClient {
    /// The server's address (127.0.0.0/8 in tests and benchmarks).
    public let address: SocketAddress
    public let timeoutMilliseconds: UInt64
    public let responseBytesMax: Int
    let clock: any Clock
    var connection: FileDescriptor?
    let epoll: Epoll
    var input: [UInt8] = []
    var scratch = [UInt8](repeating: 0, count: 64 << 10)
    var requestBuffer: [UInt8] = []
    /// Pipelined requests (`write`) not answered yet; 0 whenever `send` runs.
    var unanswered = 0

    /// A client for `address`. Connects lazily on the first request.
    public init(
        address: SocketAddress, timeoutMilliseconds: UInt64 = 10_000, responseBytesMax: Int = 64 << 20,
        clock: any Clock = SystemClock()
    ) throws(Errno) {
        self.address = address
        self.timeoutMilliseconds = timeoutMilliseconds
        self.responseBytesMax = responseBytesMax
        self.clock = clock
        self.epoll = try Epoll()
    }

    deinit { close() }

    /// Whether a connection is currently open.
    public var isConnected: Bool { connection != nil }

    /// Closes the connection (the next request reconnects).
    public func close() {
        if let connection {
            epoll.remove(connection)
            try? connection.close()
        }
        connection = nil
        input.removeAll(keepingCapacity: true)
        unanswered = 0
    }

    /// Sends `request` and waits for its response. Adds `Host` and `Content-Length`.
    public func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        precondition(unanswered == 0, "send while pipelined requests wait for answers: receive them first")
        let deadline = clock.monotonicNanoseconds() + timeoutMilliseconds * 1_000_000
        let reused = connection != nil && connectionStillOpen()
        if !reused { close() }
        do {
            return try exchange(request, deadline: deadline)
        } catch let failure {
            guard reused && failure.mayRetry && Self.isIdempotent(request.method) else { throw failure.error }
        }
        close()
        do {
            return try exchange(request, deadline: deadline)
        } catch {
            throw error.error
        }
    }

    /// Convenience: `send` with a method, target, body and optional headers.
    public func send(
        _ method: HTTPMethod, _ target: String, body: [UInt8] = [], headers: HTTPHeaders = HTTPHeaders()
    ) throws(HTTPClientError) -> HTTPResponse {
        try send(HTTPRequest(method: method, target: target, headers: headers, body: body))
    }

    private static func isIdempotent(_ method: HTTPMethod) -> Bool {
        method != .post && method != .patch
    }

    private func exchange(_ request: HTTPRequest, deadline: UInt64) throws(ExchangeError) -> HTTPResponse {
        let descriptor = try connectIfNeeded(deadline: deadline)
        requestBuffer.removeAll(keepingCapacity: true)
        Self.serialize(request, host: address.description, into: &requestBuffer)
        try writeAll(descriptor, deadline: deadline)
        let (response, keepAlive) = try readResponse(descriptor, isHead: request.method == .head, deadline: deadline)
        if !keepAlive { close() }
        return response
    }

    /// Writes the request line, headers (with Host and Content-Length) and body.
    static func serialize(_ request: HTTPRequest, host: String, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: request.method.rawValue.utf8)
        buffer.append(0x20)
        buffer.append(contentsOf: request.target.utf8)
        HTTPResponseSerializer.appendLiteral(" HTTP/1.1\r\n", to: &buffer)
        if !request.headers.contains("host") {
            HTTPResponseSerializer.appendLiteral("Host: ", to: &buffer)
            buffer.append(contentsOf: host.utf8)
            HTTPResponseSerializer.appendCRLF(to: &buffer)
        }
        for field in request.headers where !HTTPHeaders.asciiCaseInsensitiveEquals(field.name.utf8, "content-length".utf8) {
            buffer.append(contentsOf: field.name.utf8)
            HTTPResponseSerializer.appendLiteral(": ", to: &buffer)
            buffer.append(contentsOf: field.value.utf8)
            HTTPResponseSerializer.appendCRLF(to: &buffer)
        }
        if !request.body.isEmpty || request.method == .post || request.method == .put || request.method == .patch {
            HTTPResponseSerializer.appendLiteral("Content-Length: ", to: &buffer)
            HTTPResponseSerializer.appendDecimal(request.body.count, to: &buffer)
            HTTPResponseSerializer.appendCRLF(to: &buffer)
        }
        HTTPResponseSerializer.appendCRLF(to: &buffer)
        buffer.append(contentsOf: request.body)
    }
}
