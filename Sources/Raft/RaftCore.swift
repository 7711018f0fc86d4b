import MOMCore

/// The Raft state machine (etcd's raft.go): roles, terms, votes, timers. It does no I/O; its
/// outputs are the log's unstable part, `messages` and `readStates`, collected by `RawNode`.
final class RaftCore {
    let id: NodeID
    let config: RaftConfig
    var random: any RandomSource

    /// Invariant: never decreases; persisted (HardState) before any message of this term leaves.
    private(set) var term: Term = .zero
    /// Whom we voted for in `term`. Invariant: set at most once per term.
    var vote: NodeID?
    private(set) var role: Role = .follower
    /// The leader of `term`, when known.
    var leader: NodeID?
    var log: RaftLog
    var tracker: ProgressTracker
    var readOnly: ReadOnly
    /// Outgoing messages, sent only after the Ready carrying them is persisted.
    var messages: [Message] = []
    var readStates: [ReadState] = []

    /// Ticks since the last heartbeat sent (leader).
    var heartbeatElapsed = 0
    /// Ticks since we last heard from a leader (follower), or since the last check-quorum
    /// round (leader).
    var electionElapsed = 0
    /// In [electionTicks, 2 * electionTicks), drawn anew at every role change.
    private(set) var randomizedElectionTicks = 0

    /// A leader's transfer target, while a transfer is in progress.
    var leadTransferee: NodeID?
    /// The last index holding a config change this leader proposed; a new one waits until it is
    /// applied. Set to the no-op's index at election, which enforces the no-op rule.
    var pendingConfigIndex: LogIndex = .zero
    /// The log index the tracker's configuration reflects: the snapshot's index, or the last
    /// applied config change. Config changes at or below it are already included.
    var configurationIndex: LogIndex = .zero
    /// Payload bytes a leader appended that are not yet committed and handed out.
    var uncommittedBytes = 0
    /// ReadIndex requests that arrived before this leader committed an entry of its term.
    var readsAwaitingCommit: [Message] = []
    /// Quiesced (RaftCore+Quiescence): ticks do nothing until an input wakes the node.
    var quiesced = false

    init(config: RaftConfig, storage: any RaftStorage, random: any RandomSource) throws {
        config.validate()
        self.id = config.id
        self.config = config
        self.random = random
        self.log = RaftLog(storage: storage, committedEntriesBytesMax: config.committedEntriesBytesMax)
        log.refusesCommittedConflicts = !config.plantedBugs.isEmpty
        self.tracker = ProgressTracker(inflightMessagesMax: config.inflightMessagesMax, inflightBytesMax: config.inflightBytesMax)
        self.readOnly = ReadOnly(pendingMax: config.pendingReadsMax)
        let (hardState, configuration) = try storage.initialState()
        tracker.apply(configuration, next: log.lastIndex.next)
        if !hardState.isEmpty {
            precondition(hardState.commit >= log.committed && hardState.commit <= log.lastIndex,
                         "stored commit \(hardState.commit) outside [\(log.committed), \(log.lastIndex)]")
            log.commit(to: hardState.commit)
            term = hardState.term
            vote = hardState.vote
        }
        if config.applied > log.applied { log.applied(to: min(config.applied, log.committed)) }
        // Storage's configuration is the one in force at the applied index (see RaftStorage).
        configurationIndex = log.applied
        becomeFollower(term: term, leader: nil)
    }

    var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }
    var softState: SoftState { SoftState(leader: leader, role: role) }

    /// Only voters campaign: learners and removed nodes wait to be told.
    var isPromotable: Bool {
        tracker.configuration.isVoter(id) && log.unstable.snapshot == nil
    }

    /// Cheap cross-field invariants, checked after every input (TigerBeetle-style: crash on
    /// a broken invariant rather than continue on corrupt state).
    func checkInvariants() {
        precondition(log.applied <= log.committed, "applied \(log.applied) beyond committed \(log.committed)")
        precondition(log.committed <= log.lastIndex, "committed \(log.committed) beyond last \(log.lastIndex)")
        precondition(log.unstable.offset.rawValue >= 1, "unstable offset below 1")
        switch role {
        case .leader:
            precondition(leader == id && vote == id, "a leader leads and voted for itself")
        case .candidate:
            precondition(vote == id && leader == nil, "a candidate voted for itself and knows no leader")
        case .preCandidate:
            precondition(leader == nil, "a pre-candidate knows no leader")
        case .follower:
            break
        }
        precondition(tracker.memberIDs.count == tracker.progress.count, "progress out of step with the configuration")
        precondition(!quiesced || role == .leader || role == .follower, "only leaders and followers quiesce")
    }

    // MARK: Role changes

    /// Resets per-term state. A new term clears the vote.
    private func reset(term newTerm: Term) {
        if term != newTerm {
            precondition(newTerm > term, "term moves backwards: \(term) -> \(newTerm)")
            term = newTerm
            vote = nil
        }
        leader = nil
        electionElapsed = 0
        heartbeatElapsed = 0
        randomizedElectionTicks = config.electionTicks + Int(random.uniform(below: UInt64(config.electionTicks)))
        leadTransferee = nil
        tracker.resetVotes()
        let next = log.lastIndex.next
        // Only synced entries count toward commit (asynchronous storage writes may hold more).
        let stable = log.syncedLastIndex
        for peer in tracker.memberIDs {
            var progress = Progress(next: next, inflightMessagesMax: config.inflightMessagesMax,
                                    inflightBytesMax: config.inflightBytesMax,
                                    isLearner: tracker.progress[peer]!.isLearner)
            if peer == id { progress.match = min(stable, log.lastIndex) }
            tracker.progress[peer] = progress
        }
        pendingConfigIndex = .zero
        uncommittedBytes = 0
        readOnly = ReadOnly(pendingMax: config.pendingReadsMax)
        readsAwaitingCommit = []
        quiesced = false
    }

    func becomeFollower(term newTerm: Term, leader newLeader: NodeID?) {
        reset(term: newTerm)
        leader = newLeader
        role = .follower
    }

    /// Pre-candidates keep their term and vote: a pre-vote that fails leaves no trace.
    func becomePreCandidate() {
        precondition(role != .leader, "a leader cannot become a pre-candidate")
        tracker.resetVotes()
        quiesced = false
        leader = nil
        role = .preCandidate
    }

    func becomeCandidate() {
        precondition(role != .leader, "a leader cannot become a candidate")
        reset(term: term.next)
        vote = id
        role = .candidate
    }

    func becomeLeader() {
        precondition(role == .candidate, "only a candidate becomes leader")
        reset(term: term)
        leader = id
        role = .leader
        tracker.progress[id]?.becomeReplicate()
        tracker.progress[id]?.recentActive = true
        // The no-op: committing it commits every earlier entry (Raft §5.4.2), and no config
        // change may be proposed until it is applied.
        pendingConfigIndex = log.lastIndex.next
        let appended = appendEntries([Entry(term: term, index: .zero)])
        precondition(appended, "the leader's empty entry is never over the limit")
    }

    /// The host reports the leader's node silent for an election timeout (RaftCore+Quiescence).
    /// The lease ends at once, so this node grants votes. Its own campaign waits a fresh random
    /// 2 to `electionTicks - 1` ticks: the group's other followers hear of the silence up to a tick
    /// later (their ticks run out of phase), and one still in its lease would turn down a
    /// pre-vote sent at once, costing the group another election timeout.
    func presumeLeaderDead() {
        electionElapsed = max(electionElapsed, config.electionTicks)
        let margin = min(2, config.electionTicks - 1)
        randomizedElectionTicks = electionElapsed + margin + Int(random.uniform(below: UInt64(config.electionTicks - margin)))
    }

    // MARK: Ticks

    func tick() {
        // A quiesced group's clocks stand still: no heartbeats, no election timeout.
        if quiesced { return }
        if role == .leader {
            tickHeartbeat()
        } else {
            tickElection()
        }
    }

    private func tickElection() {
        electionElapsed += 1
        if isPromotable && electionElapsed >= randomizedElectionTicks {
            electionElapsed = 0
            startElection(transfer: false)
        }
    }

    private func tickHeartbeat() {
        heartbeatElapsed += 1
        electionElapsed += 1
        for peer in tracker.memberIDs where peer != id && tracker.progress[peer]!.state == .snapshot {
            tracker.progress[peer]!.snapshotTicks += 1
            if tracker.progress[peer]!.snapshotTicks > config.electionTicks {
                // Neither acknowledged nor reported: assume the snapshot was lost and probe again.
                tracker.progress[peer]!.snapshotFailed()
            }
        }
        if electionElapsed >= config.electionTicks {
            electionElapsed = 0
            if !tracker.configuration.isVoter(id) {
                // Removed or demoted an election timeout ago (see `switchTo`).
                stepDownAfterRemoval()
                return
            }
            if config.checkQuorum { checkQuorum() }
            if role == .leader && leadTransferee != nil { leadTransferee = nil }
        }
        guard role == .leader else { return }
        if heartbeatElapsed >= config.heartbeatTicks {
            heartbeatElapsed = 0
            // With nothing in flight, the heartbeat becomes a quiesce (RaftCore+Quiescence).
            if !(config.quiesce && quiesce()) { broadcastHeartbeat(context: readOnly.lastContext) }
        }
    }

    /// A leader that did not hear from a quorum within an election timeout steps down, so a
    /// partitioned leader stops accepting writes it cannot commit.
    private func checkQuorum() {
        if !tracker.isQuorumActive(selfID: id) {
            becomeFollower(term: term, leader: nil)
            return
        }
        for peer in tracker.memberIDs where peer != id { tracker.progress[peer]!.recentActive = false }
    }

    // MARK: Sending

    /// Queues `message`, stamping our id and term (except on term-less requests).
    func send(_ message: Message) {
        var message = message
        message.from = id
        precondition(message.to != id, "sending \(message.kind) to self")
        switch message.kind {
        case .vote, .voteResponse, .preVote, .preVoteResponse:
            // Vote traffic carries its own term (a pre-vote asks for a future term).
            precondition(message.term != .zero, "\(message.kind) without a term")
        case .readIndex, .transferLeader:
            // Forwarded requests carry no term: they are valid whatever the leader's term.
            message.term = .zero
        default:
            message.term = term
        }
        enqueue(message)
    }

    /// Outgoing messages wait here until the next `ready()`. Raft tolerates lost messages, so
    /// a host that stops collecting Readies loses messages rather than exhausting memory.
    static let outgoingMessagesMax = 1 << 16

    func enqueue(_ message: Message) {
        guard messages.count < RaftCore.outgoingMessagesMax else { return }
        messages.append(message)
    }

    /// Read answers wait here until the next `ready()`, bounded like the requests themselves.
    func publish(_ state: ReadState) {
        guard readStates.count < config.pendingReadsMax else { return }
        readStates.append(state)
    }

    /// Appends to the leader's log; false when over the uncommitted-bytes limit.
    func appendEntries(_ proposed: [Entry]) -> Bool {
        let payload = proposed.payloadBytes
        if uncommittedBytes > 0 && payload > 0 && uncommittedBytes + payload > config.uncommittedBytesMax {
            return false
        }
        uncommittedBytes += payload
        var entries = proposed
        let last = log.lastIndex
        for position in entries.indices {
            entries[position].term = term
            entries[position].index = last.advanced(by: UInt64(position + 1))
        }
        log.append(entries)
        return true
    }

    /// The leader's own entries became durable up to `index`: it counts as one acknowledgement,
    /// like etcd's self-addressed append response.
    func acknowledgeOwnAppend(upTo index: LogIndex) {
        guard role == .leader, tracker.progress[id] != nil else { return }
        if tracker.progress[id]!.maybeUpdate(index) && maybeCommit() {
            releaseReadsAwaitingCommit()
            broadcastAppend()
        }
    }
}
