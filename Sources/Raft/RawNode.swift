import MOMCore

/// The thread-unsafe driver of one Raft node (etcd's rawnode.go).
///
/// Inputs: `tick()`, `step(_:)`, `propose(_:)`, `proposeConfigChange(_:)`, `campaign()`,
/// `transferLeadership(to:)`, `readIndex(context:)`. Output: a `Ready`, which the application
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

    public var id: NodeID { core.id }

    /// Advances logical time by one tick: followers count toward an election, leaders toward a
    /// heartbeat and the check-quorum round.
    public func tick() { core.tick() }

    /// Feeds in a message from a peer. Throws for messages not meant for this node.
    public func step(_ message: Message) throws {
        guard message.to == core.id else { throw RaftError.wrongRecipient(message.to) }
        if message.isResponse && core.tracker.progress[message.from] == nil {
            throw RaftError.unknownPeer(message.from)
        }
        core.step(message)
    }

    /// Proposes `data` for the log. Succeeds only on the leader; committed entries come back in
    /// a later Ready's `committedEntries`.
    public func propose(_ data: [UInt8]) throws {
        guard core.role == .leader else { throw RaftError.notLeader(leader: core.leader) }
        try core.propose([Entry(term: core.term, index: .zero, kind: .normal, data: data)])
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
        guard core.isPromotable else {
            throw RaftError.configChangeInvalid("node \(core.id.rawValue) is not a voter")
        }
        core.startElection(transfer: false)
    }

    /// Asks the leader to hand leadership to `transferee` once it has caught up. Dropped when no
    /// leader is known; proposals are refused while a transfer runs (at most an election timeout).
    public func transferLeadership(to transferee: NodeID) {
        core.step(Message(kind: .transferLeader, from: transferee, to: core.id))
    }

    /// Requests a linearizable read point. The answer arrives as a `ReadState` with the same
    /// `context` in a later Ready (here, or via the leader). Contexts must be unique and
    /// non-empty.
    public func readIndex(context: [UInt8]) throws {
        precondition(!context.isEmpty, "a ReadIndex context identifies the request; it cannot be empty")
        if core.role != .leader && core.leader == nil { throw RaftError.notLeader(leader: nil) }
        core.step(Message(kind: .readIndex, from: core.id, to: core.id, context: context))
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
        core.tracker.progress[peer]!.becomeProbe()
        // On success, wait for the follower's append response; on failure, retry after a
        // heartbeat round (etcd pauses the probe the same way).
        core.tracker.progress[peer]!.probeSent = true
        _ = succeeded
    }
}
