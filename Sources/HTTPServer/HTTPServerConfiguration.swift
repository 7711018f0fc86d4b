import MOMCore
import SystemIO

/// How an `HTTPServer` listens and what it tolerates. Bounds come from `Limits`; the rest are
/// per-connection buffering choices.
public struct HTTPServerConfiguration: Sendable {
    /// Where to listen; port 0 picks a free port (read it back from `HTTPServer.localAddress`).
    public var address: SocketAddress
    /// requestHeaderBytesMax, requestBodyBytesMax, connectionsMax, requestsInFlightMax,
    /// idleTimeoutMilliseconds, headerReadTimeoutMilliseconds.
    public var limits: Limits
    /// Event-loop threads. More than one listens with SO_REUSEPORT and lets the kernel spread
    /// connections across loops.
    public var eventLoopCount: Int
    /// Unsent response bytes per connection above which the server stops reading from it
    /// (backpressure). One response larger than this is still sent whole.
    public var writeBufferBytesMax: Int
    /// Requests per connection received but not yet answered; beyond it the server stops
    /// reading, so a pipelining client cannot queue unbounded work.
    public var pipelineDepthMax: Int
    /// Bytes read per `read` call.
    public var readChunkBytes: Int
    /// The source of time for timeouts.
    public var clock: any Clock

    public init(
        address: SocketAddress = .loopback(port: 0),
        limits: Limits = .standard,
        eventLoopCount: Int = 1,
        writeBufferBytesMax: Int = 4 << 20,
        pipelineDepthMax: Int = 32,
        readChunkBytes: Int = 64 << 10,
        clock: any Clock = SystemClock()
    ) {
        self.address = address
        self.limits = limits
        self.eventLoopCount = eventLoopCount
        self.writeBufferBytesMax = writeBufferBytesMax
        self.pipelineDepthMax = pipelineDepthMax
        self.readChunkBytes = readChunkBytes
        self.clock = clock
    }

    func validate() {
        precondition((1...64).contains(eventLoopCount), "eventLoopCount must be 1...64")
        precondition(writeBufferBytesMax > 0 && pipelineDepthMax > 0 && readChunkBytes >= 1024, "buffer limits must be positive")
        precondition(limits.connectionsMax > 0 && limits.requestsInFlightMax > 0, "connection limits must be positive")
        precondition(limits.idleTimeoutMilliseconds > 0 && limits.headerReadTimeoutMilliseconds > 0, "timeouts must be positive")
    }

    var parserLimits: HTTPParserLimits {
        HTTPParserLimits(headerBytesMax: limits.requestHeaderBytesMax, bodyBytesMax: limits.requestBodyBytesMax)
    }
}
