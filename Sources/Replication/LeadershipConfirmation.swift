import MOMCore
import Raft

/// Proof that this node still led a group after a request arrived: a heartbeat sent after the
/// request was acknowledged by a majority of voters (Raft's ReadIndex, thesis §6.4).
public struct LeadershipConfirmation: Sendable, Equatable {
    /// The term this node led in from the request to the confirmation. While the node still
    /// leads in this term, its log holds every entry committed up to the confirmation.
    public var term: Term
    /// The commit index when the request arrived (the read index): state applied up to it
    /// reflects every write any leader acknowledged before the request.
    public var readIndex: LogIndex
}

extension ReplicationHost {
    /// An election timeout (the shortest one), in milliseconds: the time after which followers
    /// that hear nothing from a leader elect another.
    public var electionTimeoutMilliseconds: UInt64 { UInt64(settings.electionTicks) * settings.tickMilliseconds }

    /// Confirms that this node still leads `group`, by a ReadIndex round. `completion` runs on
    /// the loop thread (it must not block) with the confirmation, or fails with `.notLeader`
    /// when this node does not lead or stops leading first (a leader's pending rounds end with
    /// its term), `.timedOut` when no majority acknowledged within `timeoutMilliseconds` (a
    /// leader cut off from the others), `.overloaded`, `.unknownGroup` (also when the group is
    /// removed meanwhile), `.stopped` or `.storageFailed`.
    ///
    /// Why: a leader cut off in a minority keeps its role until check-quorum deposes it, up to
    /// two election timeouts later, while the majority may already have elected and committed
    /// through another. What only a current leader can vouch for (that an offset past its log
    /// end does not exist) needs this round first. A new leader answers once its term's first
    /// entry commits (Raft holds the request until then); a single voter answers at once.
    public func confirmLeadership(
        _ group: GroupID, timeoutMilliseconds: UInt64,
        completion: @escaping @Sendable (Result<LeadershipConfirmation, ReplicationError>) -> Void
    ) {
        let deadline = clock.monotonicNanoseconds() + timeoutMilliseconds * 1_000_000
        let posted = onLoop { host in host.startConfirmation(group, deadline: deadline, completion) }
        if !posted { completion(.failure(.overloaded)) }
    }

    /// Pending confirmations per group. Raft queues at most `pendingReadsMax` ReadIndex requests
    /// and drops the others silently; refusing beyond that here answers at once instead of at
    /// the deadline.
    var readIndexWaitersMax: Int {
        min(settings.commitWaitersMax, RaftConfig(id: nodeID, limits: settings.limits).pendingReadsMax)
    }

    private func startConfirmation(
        _ id: GroupID, deadline: UInt64,
        _ completion: @escaping @Sendable (Result<LeadershipConfirmation, ReplicationError>) -> Void
    ) {
        guard let (group, status) = ledGroup(id, else: { completion(.failure($0)) }) else { return }
        guard group.readIndexWaiters.count < readIndexWaitersMax else { return completion(.failure(.overloaded)) }
        let context = group.readIndexWaiters.add(.init(term: status.hardState.term, deadlineNanoseconds: deadline, completion: completion))
        // A leader never throws here (only a node that knows no leader does).
        try? group.node.readIndex(context: context)
        // This pass sends the heartbeat round (or, for a single voter, publishes the answer).
        touch(group)
    }

    /// Loop thread, after a Ready's entries are applied: completes the confirmations answered.
    func answerConfirmations(_ states: [ReadState], of group: GroupReplica) {
        guard group.readIndexWaiters.count > 0 else { return }
        let (term, leader) = Self.leadership(of: group)
        for settled in group.readIndexWaiters.answer(states, leaderTerm: term, leader: leader) { settled.complete() }
    }

    /// Loop thread, every pass for a group with pending work: fails the confirmations whose
    /// term ended or whose deadline passed.
    func expireConfirmations(of group: GroupReplica, nowNanoseconds: UInt64) {
        guard group.readIndexWaiters.count > 0 else { return }
        let (term, leader) = Self.leadership(of: group)
        for settled in group.readIndexWaiters.expire(leaderTerm: term, leader: leader, nowNanoseconds: nowNanoseconds) {
            settled.complete()
        }
    }

    /// Loop thread: fails every pending confirmation of `group` (removed, failed, stopping).
    func failConfirmations(of group: GroupReplica, _ error: ReplicationError) {
        for settled in group.readIndexWaiters.failAll(error) { settled.complete() }
    }

    /// The term this node leads `group` in (nil when it does not lead), and the leader it knows.
    private static func leadership(of group: GroupReplica) -> (term: Term?, leader: NodeID?) {
        let status = group.node.status
        return (status.softState.role == .leader ? status.hardState.term : nil, status.softState.leader)
    }
}
