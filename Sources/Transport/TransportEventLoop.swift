import MOMCore
import SystemIO

/// The transport's epoll thread: accepts, dials, handshakes, frames queued envelopes, writes,
/// reads and decodes. Every socket and every `PeerLinkState` belongs to this thread alone; it meets
/// other threads only in `TransportSharedState`, under its lock.
final class TransportEventLoop: @unchecked Sendable {
    static let notifierToken: UInt64 = 0
    static let listenerToken: UInt64 = 1
    /// Another loop's epoll set that this loop's thread also serves (TransportDriver.watch).
    static let watchedToken = UInt64.max
    /// Per wakeup and connection, so one busy peer cannot starve the others.
    static let readsPerWakeupMax = 16
    static let writesPerFlushMax = 16
    static let acceptsPerWakeupMax = 64
    static let readBufferBytes = 64 << 10
    /// The longest epoll sleep: an upper bound on how stale a missed wake-up can make the loop.
    static let idleWaitMillisecondsMax: UInt64 = 1_000

    let configuration: TCPTransportConfiguration
    let shared: TransportSharedState
    var localNode: NodeID { configuration.localNode }
    let epoll: Epoll
    let listener: FileDescriptor
    let notifier: EventNotifier
    let receive: @Sendable (NodeID, [Envelope]) -> Void
    let clock: any Clock
    var random: any RandomSource & Sendable
    var connections: [UInt64: TransportConnection] = [:]
    var links: [NodeID: PeerLinkState] = [:]
    private var seenPeersGeneration: UInt64 = 0
    private var nextToken: UInt64 = 2
    let readBuffer: UnsafeMutableRawBufferPointer
    var batchScratch: [Envelope] = []
    /// Set when a flush stopped at its bound with work left, so the next wait does not sleep.
    var moreWork = false
    private var ready: [Epoll.Event] = []
    /// Called on this thread when the watched descriptor is readable.
    var watched: (descriptor: FileDescriptor, onReadable: () -> Void)?

    init(configuration: TCPTransportConfiguration, shared: TransportSharedState, listener: FileDescriptor,
         notifier: EventNotifier, receive: @escaping @Sendable (NodeID, [Envelope]) -> Void) throws(Errno) {
        self.configuration = configuration
        self.shared = shared
        self.listener = listener
        self.notifier = notifier
        self.receive = receive
        self.clock = configuration.clock
        self.random = configuration.random
        self.epoll = try Epoll()
        self.readBuffer = .allocate(byteCount: Self.readBufferBytes, alignment: 16)
        try epoll.add(notifier.descriptor, events: .readable, token: Self.notifierToken)
        try epoll.add(listener, events: .readable, token: Self.listenerToken)
    }

    deinit { readBuffer.deallocate() }

    /// Runs until `stop`, then closes everything it owns.
    func run() {
        while shared.lock.withLock({ shared.running }) { runOnce(waitMillisecondsMax: Self.idleWaitMillisecondsMax) }
        shutdown()
    }

    /// One turn: membership, dials, handshake deadlines, queued output, then one epoll wait of
    /// at most `waitMillisecondsMax` (0: only what is ready now) and the events it reports.
    func runOnce(waitMillisecondsMax: UInt64) {
        let now = clock.monotonicNanoseconds()
        reconcilePeersIfChanged(now: now)
        dialDuePeers(now: now)
        closeExpiredHandshakes(now: now)
        flushEstablished()
        let timeout = moreWork ? 0 : min(waitMilliseconds(now: now), waitMillisecondsMax)
        moreWork = false
        ready.removeAll(keepingCapacity: true)
        do {
            try epoll.wait(timeoutMilliseconds: Int32(timeout)) { ready.append($0) }
        } catch {
            // epoll_wait fails only on EBADF/EFAULT/EINVAL: a broken invariant, not the network.
            preconditionFailure("epoll_wait failed: \(error)")
        }
        for event in ready { handle(event) }
    }

    private func handle(_ event: Epoll.Event) {
        switch event.token {
        case Self.notifierToken:
            notifier.drain()
        case Self.listenerToken:
            acceptPending(now: clock.monotonicNanoseconds())
        case Self.watchedToken:
            watched?.onReadable()
        default:
            guard let connection = connections[event.token] else { return }
            if connection.phase == .connecting {
                if !event.events.isDisjoint(with: [.writable, .error, .hangup]) { completeConnect(connection) }
                return
            }
            if !event.events.isDisjoint(with: [.readable, .error, .hangup, .readHangup]) {
                readAvailable(connection)
            }
            if event.events.contains(.writable), connections[connection.token] != nil {
                flush(connection)
            }
        }
    }

    func shutdown() {
        if let watched { epoll.remove(watched.descriptor) }
        watched = nil
        for connection in Array(connections.values) { close(connection, reason: .shutdown) }
        epoll.remove(listener)
        try? listener.close()
    }

    func makeToken() -> UInt64 {
        defer { nextToken += 1 }
        return nextToken
    }

    func log(_ message: String) { configuration.log("transport \(localNode): \(message)") }

    /// Milliseconds until the next dial or handshake deadline, at most `idleWaitMillisecondsMax`.
    private func waitMilliseconds(now: UInt64) -> UInt64 {
        var deadline = now + Self.idleWaitMillisecondsMax * 1_000_000
        for link in links.values where link.isDialer && link.connectionToken == nil {
            deadline = min(deadline, link.nextDialNanoseconds)
        }
        for connection in connections.values where connection.phase != .established {
            deadline = min(deadline, connection.handshakeDeadlineNanoseconds)
        }
        guard deadline > now else { return 0 }
        return (deadline - now + 999_999) / 1_000_000
    }

    // MARK: Membership

    /// Applies the latest `updatePeers`: new links, closed links, redials on address changes.
    private func reconcilePeersIfChanged(now: UInt64) {
        let (generation, addresses) = shared.lock.withLock { (shared.peersGeneration, shared.peerAddresses) }
        guard generation != seenPeersGeneration else { return }
        seenPeersGeneration = generation
        for node in Array(links.keys) where addresses[node] == nil {
            if let token = links[node]?.connectionToken, let connection = connections[token] {
                close(connection, reason: .peerRemoved)
            }
            links[node] = nil
        }
        for (node, address) in addresses {
            guard let existing = links[node] else {
                links[node] = PeerLinkState(address: address, isDialer: node > localNode, nextDialNanoseconds: now)
                continue
            }
            guard existing.address != address else { continue }
            links[node]?.address = address
            if existing.isDialer {
                if let token = existing.connectionToken, let connection = connections[token] {
                    close(connection, reason: .addressChanged)
                }
                links[node]?.failures = 0
                links[node]?.nextDialNanoseconds = now
            }
        }
    }

    // MARK: Connection set-up

    private func acceptPending(now: UInt64) {
        for _ in 0..<Self.acceptsPerWakeupMax {
            let accepted: (FileDescriptor, SocketAddress)?
            do {
                accepted = try listener.acceptConnection()
            } catch {
                // EMFILE and friends: the environment, not a bug. Retry at the next wakeup.
                log("accept failed: \(error)")
                return
            }
            guard let (descriptor, address) = accepted else { return }
            let handshaking = connections.values.count { !$0.isDialer && $0.phase == .handshaking }
            guard handshaking < configuration.handshakingConnectionsMax else {
                log("refused connection from \(address): \(handshaking) connections already handshaking")
                try? descriptor.close()
                continue
            }
            try? descriptor.setNoDelay()
            let connection = TransportConnection(
                token: makeToken(), descriptor: descriptor, isDialer: false, peer: nil,
                handshakeDeadlineNanoseconds: now + configuration.handshakeTimeoutMilliseconds * 1_000_000)
            do {
                try epoll.add(descriptor, events: .readable, token: connection.token)
            } catch {
                log("cannot watch connection from \(address): \(error)")
                try? descriptor.close()
                continue
            }
            connections[connection.token] = connection
        }
    }

    private func dialDuePeers(now: UInt64) {
        for (node, link) in links where link.isDialer && link.connectionToken == nil && now >= link.nextDialNanoseconds {
            dial(node, address: link.address, now: now)
        }
    }

    private func dial(_ node: NodeID, address: SocketAddress, now: UInt64) {
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.connectTCP(to: address)
        } catch {
            log("dial \(node) at \(address) failed: \(error)")
            scheduleRedial(node, now: now)
            return
        }
        let connection = TransportConnection(
            token: makeToken(), descriptor: descriptor, isDialer: true, peer: node,
            handshakeDeadlineNanoseconds: now + configuration.handshakeTimeoutMilliseconds * 1_000_000)
        do {
            try epoll.add(descriptor, events: [.readable, .writable], token: connection.token)
        } catch {
            log("cannot watch dial to \(node): \(error)")
            try? descriptor.close()
            scheduleRedial(node, now: now)
            return
        }
        connections[connection.token] = connection
        links[node]?.connectionToken = connection.token
    }

    /// The non-blocking connect finished: on success, send our handshake and wait for theirs.
    private func completeConnect(_ connection: TransportConnection) {
        let failure: Errno?
        do { failure = try connection.descriptor.pendingSocketError() } catch { failure = error }
        if let failure {
            close(connection, reason: .socketError(failure))
            return
        }
        guard let peer = connection.peer else { preconditionFailure("a dialed connection knows its peer") }
        connection.phase = .handshaking
        FrameEncoder.appendHandshake(
            Handshake(clusterID: configuration.clusterID, sender: localNode, receiver: peer), to: &connection.outbound)
        flush(connection)
    }

    /// The next dial to `node` waits out a jittered, growing delay.
    func scheduleRedial(_ node: NodeID, now: UInt64) {
        guard var link = links[node], link.isDialer else { return }
        let delay = configuration.backoff.delayNanoseconds(afterFailures: link.failures, random: &random)
        link.failures += 1
        link.nextDialNanoseconds = now + delay
        links[node] = link
    }

    private func closeExpiredHandshakes(now: UInt64) {
        for connection in Array(connections.values)
        where connection.phase != .established && now >= connection.handshakeDeadlineNanoseconds {
            close(connection, reason: .handshakeTimeout)
        }
    }
}
