import MOMCore

/// How a leader replicates to one peer (etcd's tracker states).
public enum ProgressState: Sendable, CustomStringConvertible {
    /// One append per heartbeat interval until the peer's match index is found.
    case probe
    /// Pipelined appends, bounded by the inflight window.
    case replicate
    /// Waiting for the peer to install a snapshot; nothing else is sent.
    case snapshot

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
    public var match: LogIndex
    public var next: LogIndex
    public var state: ProgressState
    public var isLearner: Bool
    public var recentActive: Bool
    public var inflightMessages: Int
}

/// A snapshot of a node's state, for monitoring and tests.
public struct Status: Sendable {
    public var id: NodeID
    public var hardState: HardState
    public var softState: SoftState
    public var applied: LogIndex
    public var lastIndex: LogIndex
    public var firstIndex: LogIndex
    public var configuration: Configuration
    /// The node a leader is handing leadership to, if any.
    public var leadTransferee: NodeID?
    /// Per peer, only when this node leads; empty otherwise.
    public var progress: [NodeID: PeerProgress]
}
