import MOMCore

/// A node's role in its current term.
public enum Role: Sendable, CustomStringConvertible {
    case follower
    /// Asking for pre-votes without raising its term, so a node that cannot win does not disrupt.
    case preCandidate
    case candidate
    case leader

    /// Lower-case role name, for logs and golden tests.
    public var description: String {
        switch self {
        case .follower: return "follower"
        case .preCandidate: return "pre-candidate"
        case .candidate: return "candidate"
        case .leader: return "leader"
        }
    }
}

/// Volatile state the application may want to observe (who leads); never persisted.
public struct SoftState: Equatable, Sendable {
    /// The leader of the current term, if known: where to redirect clients.
    public var leader: NodeID?
    /// This node's role.
    public var role: Role

    /// A role and the leader it follows.
    public init(leader: NodeID?, role: Role) {
        self.leader = leader
        self.role = role
    }
}

/// The answer to a ReadIndex request: once the application has applied up to `index`, a read
/// issued with `context` is linearizable.
public struct ReadState: Equatable, Sendable {
    /// The commit index when the read was requested; serve the read once applied up to here.
    public var index: LogIndex
    /// The request id given to `readIndex(context:)`.
    public var context: [UInt8]

    /// A read point for the request `context`.
    public init(index: LogIndex, context: [UInt8]) {
        self.index = index
        self.context = context
    }
}

/// Everything the application must do for the node, in this order:
/// 1. persist `snapshot`, `entries` and `hardState` (fdatasync when `mustSync`);
/// 2. only then send `messages` (they may depend on what was just persisted);
/// 3. apply `committedEntries` (and the snapshot) to the state machine;
/// 4. call `RawNode.advance(_:)` with this Ready.
public struct Ready: Sendable {
    /// Non-nil when it changed since the last Ready.
    public var softState: SoftState?
    /// Non-nil when it changed since the last Ready; persist before sending.
    public var hardState: HardState?
    /// Appended to stable storage BEFORE sending messages. May overwrite a suffix of the stored log.
    public var entries: [Entry]
    /// Installed in stable storage BEFORE sending messages; the log then starts after it.
    public var snapshot: Snapshot?
    /// Committed and locally durable; apply them in order.
    public var committedEntries: [Entry]
    /// Sent AFTER entries, hardState and snapshot are durable.
    public var messages: [Message]
    /// Answers to ReadIndex requests, in order.
    public var readStates: [ReadState]
    /// Whether persisting needs fdatasync: true when term, vote or entries changed (a lost vote
    /// or lost entry breaks safety; a lost commit index does not).
    public var mustSync: Bool

    /// A Ready; RawNode builds them, tests may too.
    public init(
        softState: SoftState? = nil, hardState: HardState? = nil, entries: [Entry] = [],
        snapshot: Snapshot? = nil, committedEntries: [Entry] = [], messages: [Message] = [],
        readStates: [ReadState] = [], mustSync: Bool = false
    ) {
        self.softState = softState
        self.hardState = hardState
        self.entries = entries
        self.snapshot = snapshot
        self.committedEntries = committedEntries
        self.messages = messages
        self.readStates = readStates
        self.mustSync = mustSync
    }
}
