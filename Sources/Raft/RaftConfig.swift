import MOMCore

/// TEST-ONLY switches that plant known Raft bugs, so the simulator can prove its checkers fail
/// when safety is broken. Production code never sets them (the default is empty).
public struct PlantedBugs: OptionSet, Sendable {
    /// One bit per planted bug.
    public let rawValue: UInt32
    /// A set of planted bugs from its bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Count entries of previous terms toward commitment by replica count (Figure 8 of the
    /// Raft paper): a later leader can then overwrite a "committed" entry.
    public static let commitPreviousTermEntries = PlantedBugs(rawValue: 1 << 0)
    /// Grant votes without the "candidate's log is at least as up to date" check: a leader can
    /// be elected without committed entries.
    public static let voteWithoutLogCheck = PlantedBugs(rawValue: 1 << 1)
}

/// How one Raft node behaves. Time is counted in ticks; the host decides how long a tick is.
public struct RaftConfig: Sendable {
    /// This node's id; never zero.
    public var id: NodeID
    /// A follower that hears nothing for a random time in [electionTicks, 2*electionTicks)
    /// campaigns. Must exceed `heartbeatTicks`.
    public var electionTicks: Int = 10
    /// A leader sends heartbeats every `heartbeatTicks`.
    public var heartbeatTicks: Int = 1
    /// Ask for pre-votes first, so a partitioned node that rejoins does not force an election.
    public var preVote: Bool = true
    /// A leader steps down when it has not heard from a quorum for an election timeout, and
    /// followers that heard from a leader recently ignore vote requests (leader lease).
    public var checkQuorum: Bool = true
    /// Append messages in flight per follower in replicate state (pipelining bound).
    public var inflightMessagesMax: Int = 256
    /// Entry bytes per append message (at least one entry is always sent).
    public var messageBytesMax: Int = 1 << 20
    /// Entry bytes in flight per follower.
    public var inflightBytesMax: Int = 64 << 20
    /// Proposed payload bytes a leader accepts that are not yet committed.
    public var uncommittedBytesMax: Int = 512 << 20
    /// Committed entry bytes handed out per Ready (at least one entry).
    public var committedEntriesBytesMax: Int = 16 << 20
    /// ReadIndex requests a node queues (waiting for its term's first commit, or a heartbeat round).
    public var pendingReadsMax: Int = 4096
    /// The index the application has already applied (restart); entries up to it are not
    /// handed out again. Zero means "from the log start". The configuration that storage's
    /// `initialState()` returns must be the one in force at this index, since config changes
    /// up to it are not replayed.
    public var applied: LogIndex = .zero
    /// A leader whose whole log is committed, applied and held by every member, with nothing
    /// in flight, stops heartbeating and tells its followers to stop their election clocks
    /// (RaftCore+Quiescence). The host must then run node-level liveness: report a peer whose
    /// node went silent with `RawNode.reportPeerDown(_:)`, or quiesced followers never elect.
    public var quiesce: Bool = false
    /// TEST-ONLY; see `PlantedBugs`.
    public var plantedBugs: PlantedBugs = []

    /// The defaults for node `id`.
    public init(id: NodeID) {
        self.id = id
    }

    /// Takes the Raft bounds from `limits` (inflight messages, message and uncommitted bytes).
    public init(id: NodeID, limits: Limits) {
        self.id = id
        self.inflightMessagesMax = limits.raftInflightMessagesMax
        self.messageBytesMax = limits.raftMessageBytesMax
        self.uncommittedBytesMax = limits.raftUncommittedBytesMax
    }

    func validate() {
        precondition(id.rawValue != 0, "node id 0 is reserved for 'none'")
        precondition(heartbeatTicks > 0, "heartbeatTicks must be positive")
        precondition(electionTicks > heartbeatTicks, "electionTicks must exceed heartbeatTicks")
        precondition(inflightMessagesMax > 0, "inflightMessagesMax must be positive")
        precondition(messageBytesMax > 0 && inflightBytesMax > 0, "byte limits must be positive")
        precondition(uncommittedBytesMax > 0 && committedEntriesBytesMax > 0, "byte limits must be positive")
        precondition(pendingReadsMax > 0, "pendingReadsMax must be positive")
    }
}
