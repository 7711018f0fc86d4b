import Glibc
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
        /// The thread that runs this loop's turns when another loop drives it; nil otherwise.
        var drivingThread: pthread_t?
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
    /// Set (on the driving thread only) when that thread put a response in the mailbox without
    /// signalling; the next turn then does not wait.
    var localDeliveries = false

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
        refreshDate()
    }

    deinit {
        // Closed only here: a responder holds the loop, so no `deliver` can signal a closed
        // (or reused) descriptor.
        notifier.close()
        scratch.deallocate()
    }

    /// Runs until shutdown completes.
    func run() {
        while turn(waitMillisecondsMax: .max) {}
        closeEverything()
    }

    /// One turn: waits at most `waitMillisecondsMax` (0: only what is ready now, as a driven
    /// loop does) for events, then serves them, the mailbox and the connections left over from
    /// the last turn, and applies timeouts when due. False, without waiting, once shutdown has
    /// finished (every connection closed, or the grace period over): the caller then calls
    /// `closeEverything`.
    func turn(waitMillisecondsMax: Int32) -> Bool {
        now = configuration.clock.monotonicNanoseconds()
        if let deadline = shutdownDeadline, liveCount == 0 || now >= deadline { return false }
        let timeout = hasImmediateWork ? 0 : min(waitMilliseconds(), waitMillisecondsMax)
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
        return true
    }

    /// Whether the next turn has work without waiting: connections left over from the last turn
    /// (bounded work per turn) or responses the driving thread delivered to itself.
    var hasImmediateWork: Bool { !readyConnections.isEmpty || localDeliveries }

    /// When the next timeout sweep is due (monotonic nanoseconds).
    var nextDeadlineNanoseconds: UInt64 { nextSweepNanoseconds }

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

    /// Called by a responder on any thread. On the thread that drives this loop (a driven loop,
    /// HTTPServerDriver) the response waits for the next turn without a signal: that thread
    /// looks at `hasImmediateWork` before it sleeps, and an eventfd write would only wake itself.
    func deliver(_ response: HTTPResponse, ticket: UInt64) {
        let (signal, local) = mailbox.withLock { box -> (Bool, Bool) in
            box.responses.append((ticket, response))
            if let driving = box.drivingThread, pthread_equal(driving, pthread_self()) != 0 { return (false, true) }
            return (box.responses.count == 1, false)
        }
        if local { localDeliveries = true } else if signal { notifier.signal() }
    }

    /// Driving thread: from now on `thread` runs this loop's turns (nil: none does; every
    /// delivery signals again).
    func setDrivingThread(_ thread: pthread_t?) {
        mailbox.withLock { $0.drivingThread = thread }
    }

    /// Asks the loop (from any thread) to stop accepting and finish within `graceMilliseconds`.
    func requestShutdown(graceMilliseconds: UInt64) {
        mailbox.withLock { $0.shutdownGraceMilliseconds = graceMilliseconds }
        notifier.signal()
    }

    private func drainMailbox() {
        localDeliveries = false
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
