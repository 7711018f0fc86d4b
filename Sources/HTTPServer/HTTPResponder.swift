import Synchronization

/// Where a responder delivers its response. The server's event loop is one; a closure (for
/// in-process tests and for forwarding) is another.
protocol HTTPResponseSink: AnyObject, Sendable {
    func deliver(_ response: HTTPResponse, ticket: UInt64)
}

/// The handle through which a handler answers one request, now or later, from any thread.
///
/// The broker acknowledges a produce only after Raft commits it, and a fetch long-polls, so a
/// handler may return before it responds and call `send` later from another thread. A response
/// sent while the handler is still running on the event loop skips the cross-thread hand-off.
/// A responder dropped without responding answers 500, so a forgotten path never hangs a client.
public final class HTTPResponder: Sendable {
    private enum State {
        /// The handler is running on the loop; a response sent now is returned by `finishInline`.
        case inline(HTTPResponse?)
        /// The handler returned without responding; `send` goes through the sink.
        case detached
        /// Responded.
        case done
    }

    private let state: Mutex<State>
    private let sink: any HTTPResponseSink
    private let ticket: UInt64

    init(sink: any HTTPResponseSink, ticket: UInt64) {
        self.state = Mutex(.inline(nil))
        self.sink = sink
        self.ticket = ticket
    }

    /// A responder that hands its response to `onResponse` on whatever thread sends it
    /// (tests and in-process callers). Any response is delivered through the closure.
    public convenience init(onResponse: @escaping @Sendable (HTTPResponse) -> Void) {
        self.init(sink: ClosureSink(onResponse), ticket: 0)
        detach()
    }

    deinit {
        let pending: HTTPResponse? = state.withLock { state in
            switch state {
            case .done: return nil
            case .inline(let response?): return response
            case .inline(nil), .detached:
                return HTTPResponse(error: HTTPError(
                    .internalServerError, code: "internal_error", message: "the handler finished without responding"))
            }
        }
        if let pending { sink.deliver(pending, ticket: ticket) }
    }

    /// Sends the response. Thread-safe; only the first call counts, and it returns true.
    @discardableResult
    public func send(_ response: HTTPResponse) -> Bool {
        let deliverNow: Bool? = state.withLock { state in
            switch state {
            case .inline(nil):
                state = .inline(response)
                return false
            case .inline:
                return nil
            case .detached:
                state = .done
                return true
            case .done:
                return nil
            }
        }
        guard let deliverNow else { return false }
        if deliverNow { sink.deliver(response, ticket: ticket) }
        return true
    }

    /// Sends the rendering of `error` (an `HTTPResponseError`'s status, or a generic 500).
    @discardableResult
    public func send(error: any Error) -> Bool { send(HTTPResponse(error: error)) }

    /// Whether a response has been sent.
    public var hasResponded: Bool {
        state.withLock { state in
            switch state {
            case .inline(let response): response != nil
            case .detached: false
            case .done: true
            }
        }
    }

    /// Called by the loop after the handler returns: the inline response, if one was sent;
    /// otherwise later `send` calls go through the sink.
    func finishInline() -> HTTPResponse? {
        state.withLock { state in
            guard case .inline(let response) = state else { return nil }
            state = response == nil ? .detached : .done
            return response
        }
    }

    private func detach() {
        state.withLock { $0 = .detached }
    }
}

/// A sink that calls a closure: the in-process and test path.
final class ClosureSink: HTTPResponseSink {
    private let body: @Sendable (HTTPResponse) -> Void
    init(_ body: @escaping @Sendable (HTTPResponse) -> Void) { self.body = body }
    func deliver(_ response: HTTPResponse, ticket: UInt64) { body(response) }
}
