import MOMCore

// The Raft module, modelled on etcd-io/raft, one concept per file:
//   RawNode (+Ready)   the driver: inputs, Ready, advance, status
//   RaftCore (+Step, +Leader, +Follower, +Membership)   the state machine (etcd's raft.go)
//   RaftLog, UnstableLog   the log, with invariants beside the fields (log.go, log_unstable.go)
//   Progress, Inflights, ProgressTracker, Quorum   replication tracking (tracker/, quorum/)
//   ConfigChanger   membership changes (confchange/); single-server, see its comment for why
//   ReadOnly   ReadIndex bookkeeping (read_only.go)
//   RaftStorage, MemoryStorage   the storage contract and its in-memory reference
//   Message, MessageCodec, Entry, HardState, Snapshot, Configuration, Ready, Status   values
// Pure: no I/O, no clock, no randomness of its own (election jitter comes from the injected
// RandomSource), no Foundation. Time is ticks.
//
// Differences from etcd worth knowing:
// - The leader's own append counts toward commitment only once the application has persisted
//   it (on `advance`), like etcd's self-addressed append response; committed entries are
//   handed out only once durable locally. So a host may persist the leader's entries in an
//   asynchronous group commit without weakening anything.
// - Config changes apply automatically when the application advances past their entry.
// - A lost snapshot is retried after an election timeout even if the host never reports it.
// - A follower accepts a snapshot that predates its own addition (the log after adds it).

/// The thread-unsafe driver of one Raft node (etcd's rawnode.go).
///
/// Inputs: `tick()`, `step(_:)`, `propose(_:)`, `propose(contentsOf:)`,
/// `proposeConfigChange(_:)`, `campaign()`, `transferLeadership(to:)`, `readIndex(context:)`,
/// and the transport's `reportUnreachable(_:)` / `reportSnapshot(to:succeeded:)`. Output: a `Ready`, which the application
/// persists, sends and applies, then hands back with `advance(_:)`. `ready()` and `advance(_:)`
/// alternate strictly; inputs may arrive in between (their effects show in the next Ready).
public final class RawNode {
    let core: RaftCore
    /// What the last Ready reported, to report only changes.
    var previousSoftState: SoftState
    var previousHardState: HardState
    /// True between `ready()` and `advance(_:)`.
    var readyOutstanding = false

    /// Restores the node from `storage` (HardState, configuration, log) and starts it as a
    /// follower. `random` draws election timeouts; inject a `SeededRandom` to replay runs.
    public init(config: RaftConfig, storage: any RaftStorage, random: any RandomSource) throws {
        core = try RaftCore(config: config, storage: storage, random: random)
        previousSoftState = core.softState
        previousHardState = core.hardState
    }

    /// This node's id.
    public var id: NodeID { core.id }

    /// Advances logical time by one tick: followers count toward an election, leaders toward a
    /// heartbeat and the check-quorum round.
    public func tick() {
        core.tick()
        core.checkInvariants()
    }

    /// Whether the node is quiesced (RaftConfig.quiesce): its ticks do nothing until an input
    /// wakes it, so a host need not tick it at all.
    public var isQuiesced: Bool { core.quiesced }

    /// The host heard nothing from `peer`'s node for at least an election timeout (node-level
    /// liveness, which replaces the heartbeats of quiesced groups). Wakes this node if it is
    /// quiesced with `peer`; see RaftCore+Quiescence.
    public func reportPeerDown(_ peer: NodeID) {
        core.reportPeerDown(peer)
        core.checkInvariants()
    }

    /// The group's members, ascending (voters and learners).
    public var memberIDs: [NodeID] { core.tracker.memberIDs }

    /// Feeds in a message from a peer. Throws for messages not meant for this node, replies
    /// from non-members, and messages no correct peer sends.
    public func step(_ message: Message) throws {
        try message.validate(recipient: core.id)
        if message.isResponse && core.tracker.progress[message.from] == nil {
            throw RaftError.unknownPeer(message.from)
        }
        core.step(message)
        core.checkInvariants()
    }

    /// Proposes `data` for the log. Succeeds only on the leader; committed entries come back in
    /// a later Ready's `committedEntries`.
    public func propose(_ data: [UInt8]) throws {
        guard core.role == .leader else { throw RaftError.notLeader(leader: core.leader) }
        try core.propose([Entry(term: core.term, index: .zero, kind: .normal, data: data)])
    }

    /// Proposes several payloads as consecutive entries, sent in one append per follower:
    /// the host's group commit should use this rather than one `propose` per payload. All or
    /// none are accepted.
    public func propose(contentsOf payloads: [[UInt8]]) throws {
        guard core.role == .leader else { throw RaftError.notLeader(leader: core.leader) }
        guard !payloads.isEmpty else { return }
        try core.propose(payloads.map { Entry(term: core.term, index: .zero, kind: .normal, data: $0) })
    }

    /// Proposes one membership change; it takes effect when the application has applied it
    /// (i.e. on `advance` of the Ready that hands it out).
    public func proposeConfigChange(_ change: ConfigChange) throws {
        guard core.role == .leader else { throw RaftError.notLeader(leader: core.leader) }
        try core.proposeConfigChange(change)
    }

    /// Starts an election now (with a pre-vote first when enabled), as if the timeout expired.
    public func campaign() throws {
        guard core.role != .leader else { return }
        core.quiesced = false
        guard core.isPromotable else {
            throw RaftError.configChangeInvalid("node \(core.id.rawValue) is not a voter")
        }
        core.startElection(transfer: false)
    }

    /// Asks the leader to hand leadership to `transferee` once it has caught up. Dropped when no
    /// leader is known; proposals are refused while a transfer runs (at most an election timeout).
    public func transferLeadership(to transferee: NodeID) {
        core.step(Message(kind: .transferLeader, from: transferee, to: core.id))
        core.checkInvariants()
    }

    /// Requests a linearizable read point. The answer arrives as a `ReadState` with the same
    /// `context` in a later Ready (here, or via the leader). Contexts must be unique and
    /// non-empty.
    public func readIndex(context: [UInt8]) throws {
        precondition(!context.isEmpty, "a ReadIndex context identifies the request; it cannot be empty")
        if core.role != .leader && core.leader == nil { throw RaftError.notLeader(leader: nil) }
        core.step(Message(kind: .readIndex, from: core.id, to: core.id, context: context))
        core.checkInvariants()
    }

    /// The transport could not reach `peer`: stop pipelining to it until it answers again.
    public func reportUnreachable(_ peer: NodeID) {
        guard core.role == .leader, let progress = core.tracker.progress[peer], progress.state == .replicate else { return }
        core.tracker.progress[peer]!.becomeProbe()
    }

    /// The transport delivered (or failed to deliver) a snapshot to `peer`. Optional: a lost
    /// snapshot is also retried after an election timeout.
    public func reportSnapshot(to peer: NodeID, succeeded: Bool) {
        guard core.role == .leader, let progress = core.tracker.progress[peer], progress.state == .snapshot else { return }
        if succeeded {
            core.tracker.progress[peer]!.becomeProbe()
        } else {
            core.tracker.progress[peer]!.snapshotFailed()
        }
        // On success, wait for the follower's append response; on failure, retry after a
        // heartbeat round (etcd pauses the probe the same way).
        core.tracker.progress[peer]!.probeSent = true
    }
}
