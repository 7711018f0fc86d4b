import MOMCore
import Synchronization
import SystemIO

/// An HTTP/1.1 server on epoll: keep-alive, pipelining, Content-Length bodies, limits and
/// timeouts from `Limits`, and handlers that may respond later from any thread.
///
/// Protocol choices (RFC 9110/9112), and why:
/// - Request bodies must be framed by Content-Length. `Transfer-Encoding: chunked` gets 411
///   ("send Content-Length"), other codings 501, both headers together 400 (smuggling). MOM's
///   clients always know their body size, and one framing rule keeps the parser small.
/// - Pipelined requests are parsed ahead (up to `pipelineDepthMax`) and answered in order.
/// - `Expect: 100-continue` gets an interim 100 once the head is accepted, so curl does not
///   stall for a second before sending a body; a body over the limit gets 413 instead.
/// - `Date` is sent on every response (rendered once per second); `Host` is not required.
/// - Error responses (400/408/411/413/414/431/501/505, and 503 at the connection limit) carry
///   `Connection: close`; the server then shuts down writing and drains input for up to 2 s
///   ("lingering close", as nginx does) so the client reads the error instead of a reset.
/// - Backpressure: a connection whose unsent output reaches `writeBufferBytesMax` is neither
///   read nor parsed until the client catches up.
///
/// Threads: `eventLoopCount` OS threads, each with its own epoll set and (with more than one
/// loop) its own SO_REUSEPORT listener; or, with `startDriven`, one loop run by another loop's
/// thread (HTTPServerDriver). Handlers run on the loop thread and must not block.
///
/// Limits: a connection past `connectionsMax`, or a request past `requestsInFlightMax`, gets
/// 503 with `Retry-After`; an oversized header section 431, body 413; a slow header section
/// (slowloris) or stalled body 408; malformed input 400. Each of those closes the connection.
public final class HTTPServer: Sendable {
    private struct Running {
        var loops: [HTTPEventLoop] = []
        var threads: [OSThread] = []
        /// Set when another loop's thread drives the one event loop (`startDriven`).
        var driver: HTTPServerDriver?
        var address: SocketAddress?
        var stopped = false
    }

    /// The configuration the server was made with.
    public let configuration: HTTPServerConfiguration
    private let handler: HTTPHandler
    private let counters = HTTPServerCounters()
    private let running = Mutex(Running())

    /// A server that passes every request to `handler`.
    public init(configuration: HTTPServerConfiguration, handler: @escaping HTTPHandler) {
        configuration.validate()
        self.configuration = configuration
        self.handler = handler
    }

    /// A server that routes requests with `router`.
    public convenience init(configuration: HTTPServerConfiguration, router: Router) {
        self.init(configuration: configuration) { request, responder in router.handle(request, responder: responder) }
    }

    /// Binds the listener(s) and starts the event-loop threads. Returns the bound address
    /// (useful with port 0). Calling it twice is a programmer error.
    @discardableResult
    public func start() throws(Errno) -> SocketAddress {
        try running.withLock { state throws(Errno) -> SocketAddress in
            precondition(state.loops.isEmpty && !state.stopped, "HTTPServer.start called twice")
            let reusePort = configuration.eventLoopCount > 1
            var address = configuration.address
            var loops: [HTTPEventLoop] = []
            do throws(Errno) {
                for _ in 0..<configuration.eventLoopCount {
                    let listener = try FileDescriptor.listenTCP(on: address, reusePort: reusePort)
                    do throws(Errno) {
                        address = try listener.localAddress()
                        loops.append(try HTTPEventLoop(configuration: configuration, handler: handler, counters: counters, listener: listener))
                    } catch {
                        try? listener.close()
                        throw error
                    }
                }
            } catch {
                for loop in loops { loop.closeEverything() }
                throw error
            }
            state.loops = loops
            state.address = address
            state.threads = loops.enumerated().map { index, loop in
                OSThread.start(name: "http-loop-\(index)") { loop.run() }
            }
            return address
        }
    }

    /// Binds the listener and makes its one event loop without a thread: the returned driver
    /// lets another loop's thread run it (HTTPServerDriver). Needs `eventLoopCount == 1`.
    public func startDriven() throws(Errno) -> (driver: HTTPServerDriver, address: SocketAddress) {
        precondition(configuration.eventLoopCount == 1, "a driven HTTP server has one event loop")
        return try running.withLock { state throws(Errno) -> (HTTPServerDriver, SocketAddress) in
            precondition(state.loops.isEmpty && !state.stopped, "HTTPServer.start called twice")
            let listener = try FileDescriptor.listenTCP(on: configuration.address, reusePort: false)
            let loop: HTTPEventLoop
            let address: SocketAddress
            do throws(Errno) {
                address = try listener.localAddress()
                loop = try HTTPEventLoop(configuration: configuration, handler: handler, counters: counters, listener: listener)
            } catch {
                try? listener.close()
                throw error
            }
            let driver = HTTPServerDriver(loop: loop)
            state.loops = [loop]
            state.address = address
            state.driver = driver
            return (driver, address)
        }
    }

    /// Whether another loop's thread runs this server (`startDriven`).
    public var isDriven: Bool { running.withLock { $0.driver != nil } }

    /// The bound address once started.
    public var localAddress: SocketAddress? { running.withLock { $0.address } }

    /// Stops accepting, lets in-progress requests finish for up to `graceMilliseconds`
    /// (their responses carry `Connection: close`), then closes everything and joins the
    /// loop threads. Safe to call more than once.
    public func shutdown(graceMilliseconds: UInt64 = 5_000) {
        let (threads, driver): ([OSThread], HTTPServerDriver?) = running.withLock { state in
            guard !state.stopped else { return ([], nil) }
            state.stopped = true
            for loop in state.loops { loop.requestShutdown(graceMilliseconds: graceMilliseconds) }
            defer { state.threads = [] }
            return (state.threads, state.driver)
        }
        for thread in threads { thread.join() }
        // A second past the grace: the driving thread closes what is left when the grace ends.
        driver?.finishShutdown(clock: configuration.clock, waitMillisecondsMax: graceMilliseconds + 1_000)
    }

    /// Current load counters.
    public var statistics: HTTPServerStatistics {
        HTTPServerStatistics(
            connectionsOpen: counters.connectionsOpen.load(ordering: .relaxed),
            requestsInFlight: counters.requestsInFlight.load(ordering: .relaxed),
            requestsTotal: counters.requestsTotal.load(ordering: .relaxed),
            connectionsRejected: counters.connectionsRejected.load(ordering: .relaxed),
            requestsRejected: counters.requestsRejected.load(ordering: .relaxed))
    }
}
