import MOMCore
import Raft

/// What a leader knows when it serves a read of its state machine (a subscription cursor, say).
public struct LeaderReadState: Sendable, Equatable {
    /// The commit index, which every applied entry is at or below (the high watermark's index).
    public var commit: LogIndex
    /// The first index still in the log.
    public var firstIndex: LogIndex
}

extension ReplicationHost {
    /// Runs `body` on the loop thread once this node leads `group` and has committed an entry of
    /// its own term, with everything committed applied — so the group's state machine, read in
    /// `body`, reflects every write acknowledged by any earlier leader.
    ///
    /// Why: a newly elected leader learns the true commit index only when its first entry
    /// commits (Raft §5.4.2, §8); before that its applied state can miss a committed cursor
    /// write of the previous leader, and answering from it would move a cursor backwards.
    /// Waits for that commit (bounded by `timeoutMilliseconds`); fails with `.notLeader` when
    /// another node leads, `.timedOut` when the term's first commit did not come in time.
    public func leaderRead(
        _ group: GroupID, timeoutMilliseconds: UInt64,
        _ body: @escaping @Sendable (Result<LeaderReadState, ReplicationError>) -> Void
    ) {
        let deadline = clock.monotonicNanoseconds() + timeoutMilliseconds * 1_000_000
        let posted = onLoop { host in host.leaderReadOnLoop(group, deadlineNanoseconds: deadline, body) }
        if !posted { body(.failure(.overloaded)) }
    }

    private func leaderReadOnLoop(
        _ groupID: GroupID, deadlineNanoseconds: UInt64,
        _ body: @escaping @Sendable (Result<LeaderReadState, ReplicationError>) -> Void
    ) {
        guard let (group, status) = ledGroup(groupID, else: { body(.failure($0)) }) else { return }
        let commit = status.hardState.commit
        let committedInTerm = commit > .zero && status.applied >= commit
            && (try? group.log.term(at: commit)) == status.hardState.term
        if committedInTerm {
            return body(.success(LeaderReadState(commit: commit, firstIndex: status.firstIndex)))
        }
        let now = clock.monotonicNanoseconds()
        guard now < deadlineNanoseconds else { return body(.failure(.timedOut)) }
        // Wait for the next applied commit (the term's no-op, normally), then look again.
        let remainingMilliseconds = max(1, (deadlineNanoseconds - now) / 1_000_000)
        waitForCommit(groupID, after: min(commit, status.applied), timeoutMilliseconds: remainingMilliseconds) { [self] _ in
            let posted = onLoop { host in host.leaderReadOnLoop(groupID, deadlineNanoseconds: deadlineNanoseconds, body) }
            if !posted { body(.failure(.overloaded)) }
        }
    }

    /// Loop thread: the group and its status when this node leads it; otherwise nil, after
    /// handing `fail` the reason (not hosted here, or not the leader, with the one it knows).
    func ledGroup(_ id: GroupID, else fail: (ReplicationError) -> Void) -> (GroupReplica, Status)? {
        guard let group = groups[id] else {
            fail(.unknownGroup(id))
            return nil
        }
        let status = group.node.status
        guard status.softState.role == .leader else {
            fail(.notLeader(leader: status.softState.leader))
            return nil
        }
        return (group, status)
    }
}
