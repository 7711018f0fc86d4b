import SystemIO

/// HTTP/1.1 pipelining on the client's one connection: `write` sends requests without waiting,
/// `receive` reads their answers in order. A consumer that learns its next offset from an
/// answer's head (`MOM-Next-Offset`) writes its next fetch from `receive`'s `onHead`, so the
/// server prepares that page while this one's body is still on its way.
///
/// No retries: a failure closes the connection, and the answers to every request written on it
/// are lost (the caller decides what to resend). At most `pipelineDepthMax` requests may be
/// unanswered, which bounds what the server has to queue for this client.
extension HTTPClient {
    /// Runs when an answer's status and headers have arrived, before its body is read.
    public typealias HeadHandler = (HTTPStatus, HTTPHeaders) throws(HTTPClientError) -> Void

    /// The most requests `write` lets wait for an answer (the server's default pipeline depth).
    public static let pipelineDepthMax = 32

    /// Requests written with `write` whose answers `receive` has not read yet.
    public var unansweredCount: Int { unanswered }

    /// Sends `request` without reading any answer. Adds `Host` and `Content-Length`.
    public func write(_ request: HTTPRequest) throws(HTTPClientError) {
        guard unanswered < Self.pipelineDepthMax else {
            throw .malformedResponse("more than \(Self.pipelineDepthMax) pipelined requests without an answer")
        }
        let deadline = clock.monotonicNanoseconds() + timeoutMilliseconds * 1_000_000
        if unanswered == 0 && !(connection != nil && connectionStillOpen()) { close() }
        do {
            let descriptor = try connectIfNeeded(deadline: deadline)
            requestBuffer.removeAll(keepingCapacity: true)
            Self.serialize(request, host: address.description, into: &requestBuffer)
            try writeAll(descriptor, deadline: deadline)
        } catch {
            close()
            throw error.error
        }
        unanswered += 1
    }

    /// Reads the answer to the oldest unanswered request, within `timeoutMilliseconds`.
    /// `onHead` may `write` further requests. HEAD requests are not supported here (their
    /// answers' framing depends on the method).
    public func receive(onHead: HeadHandler? = nil) throws(HTTPClientError) -> HTTPResponse {
        guard unanswered > 0, let descriptor = connection else {
            throw .malformedResponse("receive without a written request")
        }
        let deadline = clock.monotonicNanoseconds() + timeoutMilliseconds * 1_000_000
        do {
            let (response, keepAlive) = try readResponse(descriptor, isHead: false, deadline: deadline, onHead: onHead)
            unanswered -= 1
            if !keepAlive { close() }
            return response
        } catch {
            close()
            throw error.error
        }
    }
}
