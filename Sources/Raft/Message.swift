import MOMCore

/// The kinds of message Raft nodes exchange. Local inputs (tick, propose, campaign) are RawNode
/// methods, not messages, so every kind here can travel on the wire.
public enum MessageKind: UInt8, Sendable, CaseIterable {
    case preVote = 0
    case preVoteResponse = 1
    case vote = 2
    case voteResponse = 3
    /// Entries after (`logTerm`, `index`), and the leader's commit index.
    case append = 4
    /// `index` is the follower's last index on success; on reject, `rejectHint`/`logTerm` say
    /// where the follower's log might match (fast backtracking).
    case appendResponse = 5
    case heartbeat = 6
    case heartbeatResponse = 7
    case snapshot = 8
    /// Leadership transfer: "campaign now, skipping pre-vote and the leader lease".
    case timeoutNow = 9
    /// A follower forwards a ReadIndex request (id in `context`) to its leader.
    case readIndex = 10
    case readIndexResponse = 11
    /// A follower forwards a leadership-transfer request to its leader; `from` is the transferee.
    case transferLeader = 12
    /// A leader with nothing in flight stops heartbeating (RaftCore+Quiescence): "you hold my
    /// whole log, (`logTerm`, `index`), and `commit`; stop your election clock until you hear
    /// from me again". A follower that holds exactly that goes quiet without answering; any other
    /// answers with a heartbeat response, which wakes the leader.
    case quiesce = 13

    /// Whether a message of this kind tells its receiver that the sender has something on disk:
    /// an append response (its index counts toward commit) or a granted or refused vote (the
    /// vote itself is durable at once, but the answer must not overtake the log it was judged
    /// on). A host with asynchronous storage writes holds these until its sync finished.
    /// Heartbeat responses carry no index, and requests speak for nothing stored.
    public var vouchesForDurability: Bool {
        switch self {
        case .appendResponse, .voteResponse, .preVoteResponse: return true
        default: return false
        }
    }
}

/// One Raft message. Field meanings follow etcd's raftpb.Message.
public struct Message: Equatable, Sendable {
    /// What the message asks or answers.
    public var kind: MessageKind
    /// The sender (for `transferLeader`, the transferee).
    public var from: NodeID
    /// The recipient; the transport routes on it.
    public var to: NodeID
    /// The sender's term (a pre-vote carries the term it would campaign in); zero on forwarded requests.
    public var term: Term
    /// Term of the entry at `index` (append); last log term (votes); the hint term on a rejected
    /// append response (the follower's term at `rejectHint`).
    public var logTerm: Term
    /// Index of the entry before `entries` (append), last index (votes), acknowledged or rejected index (append response), read index (read-index response).
    public var index: LogIndex
    /// Entries to append, contiguous from `index + 1`.
    public var entries: [Entry]
    /// The leader's commit index, capped at what the follower is known to hold.
    public var commit: LogIndex
    /// A refused vote or append.
    public var reject: Bool
    /// On a rejected append: the follower's last index whose term is at most `logTerm` of the probe.
    public var rejectHint: LogIndex
    /// The state machine image, on `.snapshot` messages only.
    public var snapshot: Snapshot?
    /// ReadIndex request id; `Message.transferContext` on a vote caused by leadership transfer.
    public var context: [UInt8]

    /// A message; unset fields are zero or empty.
    public init(
        kind: MessageKind, from: NodeID, to: NodeID, term: Term = .zero, logTerm: Term = .zero,
        index: LogIndex = .zero, entries: [Entry] = [], commit: LogIndex = .zero, reject: Bool = false,
        rejectHint: LogIndex = .zero, snapshot: Snapshot? = nil, context: [UInt8] = []
    ) {
        self.kind = kind
        self.from = from
        self.to = to
        self.term = term
        self.logTerm = logTerm
        self.index = index
        self.entries = entries
        self.commit = commit
        self.reject = reject
        self.rejectHint = rejectHint
        self.snapshot = snapshot
        self.context = context
    }

    /// Marks a (pre-)vote request sent because of leadership transfer: voters grant it even
    /// while they still hear from a leader (etcd's campaignTransfer).
    public static let transferContext: [UInt8] = Array("transfer".utf8)

    /// Responses are ignored when they come from a node outside the configuration.
    var isResponse: Bool {
        switch kind {
        case .preVoteResponse, .voteResponse, .appendResponse, .heartbeatResponse,
             .readIndexResponse:
            return true
        default:
            return false
        }
    }
}
