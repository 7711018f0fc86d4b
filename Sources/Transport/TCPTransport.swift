import Glibc
import MOMCore
import SystemIO

/// The production `MessageTransport`: one TCP connection per node pair carrying every group.
///
/// Threads: `send`, `updatePeers` and `statistics` may be called from any thread; they take a
/// short lock and, when a queue goes from empty to non-empty, wake the transport's own epoll
/// thread through an eventfd. That thread owns every socket, frames and writes the queues, and
/// calls the receive handler — which must therefore hand batches off quickly (to the
/// replication loop's inbox) and never block.
///
/// Connection direction: the node with the lower id dials, the higher id accepts. Exactly one
/// side ever dials a pair, so two nodes can never race to open crossing connections. If an
/// accepted connection from a peer arrives while an older one is still open (the peer
/// restarted and the old socket is half-open), the newer one replaces it.
public final class TCPTransport: MessageTransport, @unchecked Sendable {
    /// This node.
    public let localNode: NodeID
    let configuration: TCPTransportConfiguration
    let shared: TransportSharedState
    // Written by start/stop only, which callers do not race (precondition-checked).
    private var thread: OSThread?
    private var notifier: EventNotifier?
    private var driver: TransportDriver?
    private var started = false

    /// A transport that does nothing until `start`.
    public init(configuration: TCPTransportConfiguration) {
        precondition(configuration.frameBatchBytesTarget > 0, "frameBatchBytesTarget must be positive")
        precondition(configuration.limits.frameBytesMax > Frame.envelopeFrameOverheadByteCount + 16,
                     "frameBytesMax too small for any envelope")
        self.localNode = configuration.localNode
        self.configuration = configuration
        self.shared = TransportSharedState(configuration: configuration)
    }

    /// The address the listener is bound to (with the real port when configured with port 0),
    /// or nil before `start`.
    public var listenAddress: SocketAddress? { shared.lock.withLock { shared.boundAddress } }

    /// Binds the listener and starts the event-loop thread.
    public func start(receive: @escaping @Sendable (NodeID, [Envelope]) -> Void) throws {
        let loop = try makeLoop(receive: receive)
        thread = OSThread.start(name: "mom-transport") { loop.run() }
    }

    /// Binds the listener; the caller's own loop thread runs the transport through the returned
    /// driver instead of a thread of its own (TCPTransport+Driven).
    public func startDriven(receive: @escaping @Sendable (NodeID, [Envelope]) -> Void) throws -> TransportDriver {
        let driver = TransportDriver(loop: try makeLoop(receive: receive), shared: shared)
        self.driver = driver
        return driver
    }

    private func makeLoop(receive: @escaping @Sendable (NodeID, [Envelope]) -> Void) throws -> TransportEventLoop {
        precondition(!started, "a TCPTransport starts once; create a new one to restart")
        started = true
        let listener = try FileDescriptor.listenTCP(on: configuration.listenAddress)
        let loop: TransportEventLoop
        do {
            let bound = try listener.localAddress()
            let notifier = try EventNotifier()
            self.notifier = notifier
            loop = try TransportEventLoop(
                configuration: configuration, shared: shared, listener: listener,
                notifier: notifier, receive: receive)
            shared.lock.withLock {
                shared.boundAddress = bound
                shared.running = true
                shared.notifier = notifier
            }
        } catch {
            try? listener.close()
            notifier?.close()
            throw error
        }
        return loop
    }

    /// Stops the thread, closes every socket and discards queued envelopes.
    public func stop() {
        // Senders signal the eventfd only under the lock and only while running, so once this
        // critical section ends nobody else touches the descriptor and it can be closed safely
        // (a late write could otherwise land on a reused descriptor number).
        let wasRunning = shared.lock.withLock { () -> Bool in
            let was = shared.running
            shared.running = false
            shared.notifier?.signal()
            shared.notifier = nil
            return was
        }
        guard wasRunning else { return }
        if let thread {
            thread.join()
            self.thread = nil
        } else {
            // Driven: waits for the driving thread's turn to end, then closes the sockets here.
            driver?.close()
        }
        notifier?.close()
        notifier = nil
    }

    /// Replaces the peer set. Takes effect for `send` immediately and for connections at the
    /// event loop's next turn.
    public func updatePeers(_ peers: [NodeID: SocketAddress]) {
        shared.lock.withLock {
            shared.replacePeers(peers.filter { $0.key != localNode })
            shared.notifier?.signal()
        }
    }

    /// Queues envelopes for `peer`; never blocks.
    public func send(_ envelopes: [Envelope], to peer: NodeID, priority: SendPriority) -> SendResult {
        if envelopes.isEmpty { return .queued }
        return shared.lock.withLock { () -> SendResult in
            guard shared.running else { return .dropped(.stopped) }
            guard let outbox = shared.outboxes[peer] else { return .peerUnknown }
            let wasEmpty = outbox.queue.isEmpty
            let result = outbox.queue.enqueue(envelopes, priority: priority)
            switch result {
            // Only the empty-to-non-empty transition needs a wake-up: a non-empty queue is
            // already on the loop's list. Signalled under the lock; see `stop`.
            // The driving thread flushes at the start of its next turn without being told.
            case .queued: if wasEmpty && !shared.isDrivingThread { shared.notifier?.signal() }
            case .dropped(.queueFull): outbox.statistics.envelopesDroppedQueueFull += UInt64(envelopes.count)
            case .dropped(.envelopeTooLarge): outbox.statistics.envelopesDroppedTooLarge += UInt64(envelopes.count)
            case .dropped(.stopped), .peerUnknown: break
            }
            return result
        }
    }

    /// An id of the handshaken connection to `peer` that is up now, or nil when none is (or
    /// the peer is unknown). It changes whenever the connection is replaced, so a caller that
    /// sent a request can tell, later, that the connection it went out on is gone.
    public func connectionGeneration(of peer: NodeID) -> UInt64? {
        shared.lock.withLock {
            guard let outbox = shared.outboxes[peer], outbox.statistics.connected else { return nil }
            return outbox.connectionGeneration
        }
    }

    /// A snapshot of every counter.
    public func statistics() -> TransportStatistics {
        shared.lock.withLock { shared.snapshot() }
    }

    deinit { stop() }
}

/// What the caller threads and the event-loop thread share; every field is guarded by `lock`.
final class TransportSharedState: @unchecked Sendable {
    let lock = ConditionMutex()
    let configuration: TCPTransportConfiguration
    var running = false
    var notifier: EventNotifier?
    var boundAddress: SocketAddress?
    /// The peer set as last given to `updatePeers`, and a counter the loop compares against.
    var peerAddresses: [NodeID: SocketAddress] = [:]
    var peersGeneration: UInt64 = 0
    var outboxes: [NodeID: PeerOutbox] = [:]
    var handshakesRejected: UInt64 = 0
    var connectionsClosedForBadFrames: UInt64 = 0
    /// Connections handshaken so far, with every peer: the source of connection generations.
    var connectionsEstablished: UInt64 = 0
    /// The thread that drives the loop (driven mode), once it has.
    var drivingThread: pthread_t?
    var isDrivingThread: Bool { drivingThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false }

    init(configuration: TCPTransportConfiguration) { self.configuration = configuration }

    func replacePeers(_ peers: [NodeID: SocketAddress]) {
        peerAddresses = peers
        peersGeneration &+= 1
        for node in outboxes.keys where peers[node] == nil { outboxes[node] = nil }
        for node in peers.keys where outboxes[node] == nil { outboxes[node] = PeerOutbox(configuration: configuration) }
    }

    func snapshot() -> TransportStatistics {
        var statistics = TransportStatistics()
        statistics.handshakesRejected = handshakesRejected
        statistics.connectionsClosedForBadFrames = connectionsClosedForBadFrames
        for (node, outbox) in outboxes {
            var peer = outbox.statistics
            peer.queuedEnvelopes = outbox.queue.envelopeCount
            peer.queuedBytes = outbox.queue.byteCount
            statistics.peers[node] = peer
        }
        return statistics
    }
}

/// One peer's queue and counters, guarded by the shared lock.
final class PeerOutbox {
    var queue: PeerSendQueue
    var statistics = PeerStatistics()
    /// `connectionsEstablished` when the current connection was handshaken: unique per
    /// connection for the transport's life, even across a peer removed and added again.
    var connectionGeneration: UInt64 = 0

    init(configuration: TCPTransportConfiguration) {
        let limits = configuration.limits
        queue = PeerSendQueue(
            envelopesMax: limits.peerSendQueueEnvelopesMax,
            bytesMax: limits.peerSendQueueBytesMax,
            controlEnvelopesMax: configuration.controlQueueEnvelopesMax,
            controlBytesMax: configuration.controlQueueBytesMax,
            envelopeBytesMax: limits.frameBytesMax - Frame.envelopeFrameOverheadByteCount)
    }
}
