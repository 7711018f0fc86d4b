import MOMCore

/// How a leader replicates to one peer (etcd's tracker states).
public enum ProgressState: Sendable, CustomStringConvertible {
    /// One append per heartbeat interval until the peer's match index is found.
    case probe
    /// Pipelined appends, bounded by the inflight window.
    case replicate
    /// Waiting for the peer to install a snapshot; nothing else is sent.
    case snapshot

    /// Lower-case state name, for logs and golden tests.
    public var description: String {
        switch self {
        case .probe: return "probe"
        case .replicate: return "replicate"
        case .snapshot: return "snapshot"
        }
    }
}

/// A leader's view of one peer, for status pages and tests.
public struct PeerProgress: Equatable, Sendable {
    /// Highest index known replicated on the peer.
    public var match: LogIndex
    /// Next index the leader will send.
    public var next: LogIndex
    /// How the leader currently replicates to the peer.
    public var state: ProgressState
    /// Whether the peer is a non-voting learner.
    public var isLearner: Bool
    /// Heard from since the last check-quorum round.
    public var recentActive: Bool
    /// Unacknowledged append messages.
    public var inflightMessages: Int
}

/// A snapshot of a node's state, for monitoring and tests.
public struct Status: Sendable {
    /// The node reporting.
    public var id: NodeID
    /// Term, vote and commit.
    public var hardState: HardState
    /// Leader and role.
    public var softState: SoftState
    /// The last index the application applied (per `advance`).
    public var applied: LogIndex
    /// The last index in the log, durable or not.
    public var lastIndex: LogIndex
    /// The first index still held as an entry.
    public var firstIndex: LogIndex
    /// The configuration in force (as of `applied`).
    public var configuration: Configuration
    /// The index the configuration in force dates from: its change entry, or (after a restart
    /// or snapshot) an applied index at which it held. Later configurations have larger ones.
    public var configurationIndex: LogIndex
    /// The node a leader is handing leadership to, if any.
    public var leadTransferee: NodeID?
    /// Per peer, only when this node leads; empty otherwise.
    public var progress: [NodeID: PeerProgress]
}
