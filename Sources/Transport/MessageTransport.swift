import MOMCore
import SystemIO

/// Node-to-node delivery of Raft messages for every group, as the replication host sees it.
///
/// Two implementations: `TCPTransport` (one TCP connection per node pair) and the Simulation
/// module's simulated network, so the same replication host runs in production and in the
/// deterministic simulator. Nothing here mentions sockets or threads on purpose.
///
/// Delivery is best effort, as Raft assumes: envelopes may be dropped (full queue, lost
/// connection) but are never corrupted, duplicated, or reordered within one lane of one pair.
public protocol MessageTransport: AnyObject, Sendable {
    /// This node.
    var localNode: NodeID { get }

    /// Starts delivering. `receive` is called with each batch of envelopes from a peer, in the
    /// order the peer sent them. An implementation may call it on its own thread, so it must be
    /// quick: hand the batch to the replication loop's inbox and return.
    func start(receive: @escaping @Sendable (_ from: NodeID, _ envelopes: [Envelope]) -> Void) throws

    /// Stops delivering and releases every resource. After it returns `receive` is not called
    /// again and `send` reports `.dropped(.stopped)`.
    func stop()

    /// Replaces the peer set (membership comes from the coordinator). New peers get queues,
    /// removed peers are disconnected and their queues discarded, moved peers are redialled.
    func updatePeers(_ peers: [NodeID: SocketAddress])

    /// Queues `envelopes` for `peer` without blocking. All or none are queued.
    func send(_ envelopes: [Envelope], to peer: NodeID, priority: SendPriority) -> SendResult

    /// A snapshot of the counters, for metrics and tests.
    func statistics() -> TransportStatistics
}

extension MessageTransport {
    /// Queues one envelope on the normal lane.
    @discardableResult
    public func send(_ envelope: Envelope, to peer: NodeID) -> SendResult {
        send([envelope], to: peer, priority: .normal)
    }

    /// Queues envelopes on the normal lane.
    @discardableResult
    public func send(_ envelopes: [Envelope], to peer: NodeID) -> SendResult {
        send(envelopes, to: peer, priority: .normal)
    }
}

/// What became of a `send`. Never blocks and never throws: Raft tolerates lost messages, so the
/// caller only needs to know, and the drop is counted.
public enum SendResult: Hashable, Sendable {
    /// Every envelope is queued for the peer.
    case queued
    /// Nothing was queued.
    case dropped(DropReason)
    /// The peer is not in the current peer set.
    case peerUnknown
}

/// Why envelopes were dropped.
public enum DropReason: Hashable, Sendable {
    /// The peer's queue is at its envelope or byte bound (the peer is slow or down).
    case queueFull
    /// One envelope cannot fit in a frame of `Limits.frameBytesMax`.
    case envelopeTooLarge
    /// The transport is not running.
    case stopped
}

/// Counters for one peer link.
public struct PeerStatistics: Hashable, Sendable {
    /// Whether a handshaken connection to the peer is up right now.
    public var connected = false
    /// Connections established after the first one: how often the link healed.
    public var reconnects: UInt64 = 0
    /// Envelope frames written in full, and their bytes (headers included).
    public var framesSent: UInt64 = 0
    public var bytesSent: UInt64 = 0
    public var envelopesSent: UInt64 = 0
    /// Envelope frames received and delivered, and their bytes (headers included).
    public var framesReceived: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    public var envelopesReceived: UInt64 = 0
    /// Envelopes refused by `send` because the queue was full.
    public var envelopesDroppedQueueFull: UInt64 = 0
    /// Envelopes refused by `send` because they could never fit in a frame.
    public var envelopesDroppedTooLarge: UInt64 = 0
    /// Envelopes already framed when their connection broke; they may or may not have arrived.
    public var envelopesDroppedOnDisconnect: UInt64 = 0
    /// What is waiting in the queue now.
    public var queuedEnvelopes = 0
    public var queuedBytes = 0

    /// Every envelope dropped for any reason.
    public var envelopesDropped: UInt64 {
        envelopesDroppedQueueFull + envelopesDroppedTooLarge + envelopesDroppedOnDisconnect
    }

    public init() {}
}

/// Counters for the whole transport.
public struct TransportStatistics: Hashable, Sendable {
    /// Per peer in the current peer set.
    public var peers: [NodeID: PeerStatistics] = [:]
    /// Inbound or outbound handshakes refused (wrong cluster, unknown or unexpected node).
    public var handshakesRejected: UInt64 = 0
    /// Connections closed because the byte stream was not valid frames (corrupt, oversize).
    public var connectionsClosedForBadFrames: UInt64 = 0

    public init() {}
}
