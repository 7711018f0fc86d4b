import MOMCore
import Synchronization
import SystemIO

/// One event-loop thread: accepts, reads, parses, dispatches to the handler, and writes, for
/// the connections it owns. Edge-triggered epoll; all connection state is confined to this
/// thread. Other threads reach it only through `deliver` (a locked mailbox plus an eventfd).
final class HTTPEventLoop: HTTPResponseSink, @unchecked Sendable {
    /// Responses from other threads. Bounded without a check of its own: every entry is the
    /// one response of a request counted in `requestsInFlight`, which `requestsInFlightMax` caps.
    struct Mailbox {
        var responses: [(ticket: UInt64, response: HTTPResponse)] = []
        var shutdownGraceMilliseconds: UInt64?
    }

    static let listenerToken = UInt64.max
    static let notifierToken = UInt64.max - 1
    /// Connections rejected at accept that may linger (answered 503, draining) at once.
    static let rejectedLingeringMax = 64
    /// How long a closing connection keeps draining input so its last response is not lost to
    /// a TCP reset.
    static let lingerMillisecondsMax: UInt64 = 2_000

    let configuration: HTTPServerConfiguration
    let handler: HTTPHandler
    let counters: HTTPServerCounters
    let epoll: Epoll
    let notifier: EventNotifier
    var listener: FileDescriptor?
    let mailbox = Mutex(Mailbox())
    var spareResponses: [(ticket: UInt64, response: HTTPResponse)] = []

    var connections: [HTTPConnection?] = []
    var generations: [UInt32] = []
    var freeSlots: [Int] = []
    var liveCount = 0
    var rejectedLingering = 0
    /// Connections to service again on the next iteration (bounded work per turn, for fairness).
    var readyConnections: [(slot: Int, generation: UInt32)] = []
    let scratch: UnsafeMutableRawBufferPointer

    var now: UInt64
    /// `Date: …\r\n` for the current wall-clock second, and that second.
    var dateLine: [UInt8] = []
    var dateSecond: Int64 = -1
    var nextSweepNanoseconds: UInt64
    let sweepIntervalNanoseconds: UInt64
    var listenerPausedUntil: UInt64?
    var shutdownDeadline: UInt64?

    init(configuration: HTTPServerConfiguration, handler: @escaping HTTPHandler, counters: HTTPServerCounters, listener: FileDescriptor) throws(Errno) {
        self.configuration = configuration
        self.handler = handler
        self.counters = counters
        self.epoll = try Epoll()
        self.notifier = try EventNotifier()
        self.listener = listener
        self.scratch = .allocate(byteCount: configuration.readChunkBytes, alignment: 16)
        self.now = configuration.clock.monotonicNanoseconds()
        let shortest = min(configuration.limits.headerReadTimeoutMilliseconds, configuration.limits.idleTimeoutMilliseconds)
        self.sweepIntervalNanoseconds = min(max(shortest / 4, 5), 250) * 1_000_000
        self.nextSweepNanoseconds = now + sweepIntervalNanoseconds
        try epoll.add(notifier.descriptor, events: .readable, token: Self.notifierToken)
        try epoll.add(listener, events: .readable, token: Self.listenerToken)
    }

    deinit {
        // Closed only here: a responder holds the loop, so no `deliver` can signal a closed
        // (or reused) descriptor.
        notifier.close()
        scratch.deallocate()
    }

    /// Runs until shutdown completes.
    func run() {
        refreshDate()
        while true {
            now = configuration.clock.monotonicNanoseconds()
            if let deadline = shutdownDeadline, liveCount == 0 || now >= deadline { break }
            let timeout = readyConnections.isEmpty ? waitMilliseconds() : 0
            do {
                try epoll.wait(timeoutMilliseconds: timeout, maxEvents: 256) { event in handle(event) }
            } catch {
                preconditionFailure("epoll_wait failed: \(error)")  // only EBADF/EFAULT/EINVAL: bugs
            }
            now = configuration.clock.monotonicNanoseconds()
            refreshDate()
            drainMailbox()
            serviceReadyConnections()
            if now >= nextSweepNanoseconds { sweep() }
        }
        closeEverything()
    }

    private func refreshDate() {
        let second = configuration.clock.wallMilliseconds() / 1000
        if second != dateSecond {
            dateSecond = second
            dateLine = HTTPDate.headerLine(unixSeconds: second)
        }
    }

    private func waitMilliseconds() -> Int32 {
        guard nextSweepNanoseconds > now else { return 0 }
        return Int32((nextSweepNanoseconds - now + 999_999) / 1_000_000)
    }

    private func handle(_ event: Epoll.Event) {
        switch event.token {
        case Self.listenerToken:
            acceptConnections()
        case Self.notifierToken:
            notifier.drain()
        default:
            guard let connection = connection(slot: Int(event.token >> 32), generation: UInt32(truncatingIfNeeded: event.token)) else { return }
            if event.events.contains(.error) || event.events.contains(.hangup) {
                close(connection)
                return
            }
            if event.events.contains(.readable) || event.events.contains(.readHangup) { connection.readable = true }
            if event.events.contains(.readHangup) { connection.peerHalfClosed = true }
            if event.events.contains(.writable) { connection.writable = true }
            service(connection)
        }
    }

    func connection(slot: Int, generation: UInt32) -> HTTPConnection? {
        guard slot < connections.count, let connection = connections[slot], connection.generation == generation else { return nil }
        return connection
    }

    // MARK: Cross-thread responses

    /// Called by a responder on any thread.
    func deliver(_ response: HTTPResponse, ticket: UInt64) {
        let wasEmpty = mailbox.withLock { box in
            box.responses.append((ticket, response))
            return box.responses.count == 1
        }
        if wasEmpty { notifier.signal() }
    }

    /// Asks the loop (from any thread) to stop accepting and finish within `graceMilliseconds`.
    func requestShutdown(graceMilliseconds: UInt64) {
        mailbox.withLock { $0.shutdownGraceMilliseconds = graceMilliseconds }
        notifier.signal()
    }

    private func drainMailbox() {
        let shutdownGrace: UInt64? = mailbox.withLock { box in
            swap(&box.responses, &spareResponses)
            return box.shutdownGraceMilliseconds
        }
        for (ticket, response) in spareResponses {
            counters.requestsInFlight.subtract(1, ordering: .relaxed)
            let slot = HTTPTicket.slot(ticket)
            let generation = HTTPTicket.generation(ticket)
            guard slot < connections.count, let connection = connections[slot],
                  connection.generation & HTTPTicket.generationMask == generation else { continue }
            if connection.fill(sequence: HTTPTicket.sequence(ticket), with: response) { service(connection) }
        }
        spareResponses.removeAll(keepingCapacity: spareResponses.capacity <= 4096)
        if let shutdownGrace, shutdownDeadline == nil { beginShutdown(graceMilliseconds: shutdownGrace) }
    }

    private func serviceReadyConnections() {
        guard !readyConnections.isEmpty else { return }
        let ready = readyConnections
        readyConnections.removeAll(keepingCapacity: true)
        for entry in ready {
            if let connection = connection(slot: entry.slot, generation: entry.generation) { service(connection) }
        }
    }
}
