import MOMCore
import Raft

/// A membership change proposed by this node, waiting to be applied here.
struct PendingMembershipChange {
    let index: LogIndex
    let term: Term
    let deadlineNanoseconds: UInt64
    let completion: @Sendable (Result<Configuration, MembershipChangeError>) -> Void
}

/// Single-server membership changes (add a learner, promote it, remove a member), the steps a
/// partition reassignment is made of. Raft allows one pending change per group; the leader
/// proposes it and it takes effect when applied.
extension ReplicationHost {
    /// Proposes `change` to a group this node leads. `completion` runs on the loop thread with
    /// the configuration in force once the change applied here, or with why it did not.
    /// Removing the leader itself is never proposed: the leader starts handing leadership to
    /// its most up-to-date voter and answers `.handingOver`, so the removal is retried at the
    /// new leader and the group never waits out an election timeout.
    public func changeMembership(
        _ group: GroupID, _ change: ConfigChange, timeoutMilliseconds: UInt64,
        completion: @escaping @Sendable (Result<Configuration, MembershipChangeError>) -> Void
    ) {
        let deadline = clock.monotonicNanoseconds() + timeoutMilliseconds * 1_000_000
        let posted = onLoop { host in
            host.startMembershipChange(group, change, deadline: deadline, completion: completion)
        }
        if !posted { completion(.failure(.overloaded)) }
    }

    /// Loop thread.
    func startMembershipChange(
        _ id: GroupID, _ change: ConfigChange, deadline: UInt64,
        completion: @escaping @Sendable (Result<Configuration, MembershipChangeError>) -> Void
    ) {
        guard let group = groups[id] else { return completion(.failure(.unknownGroup(id))) }
        guard group.isLeader else { return completion(.failure(.notLeader(leader: group.leader))) }
        if case .removeNode(let node) = change, node == nodeID {
            let target = transferTarget(of: group)
            if let target {
                group.node.transferLeadership(to: target)
                touch(group)
            }
            return completion(.failure(.handingOver(to: target)))
        }
        guard group.membershipChange == nil else { return completion(.failure(.changePending)) }
        do {
            try group.node.proposeConfigChange(change)
            touch(group)
        } catch {
            return completion(.failure(Self.membershipError(error, group: group)))
        }
        let status = group.node.status
        group.membershipChange = PendingMembershipChange(
            index: status.lastIndex, term: status.hardState.term, deadlineNanoseconds: deadline, completion: completion)
    }

    /// Loop thread, after each pass's `advance` (which is when a change takes effect): completes
    /// the group's pending change once applied, or at its deadline.
    func settleMembershipChange(of group: GroupReplica, nowNanoseconds: UInt64) {
        guard let pending = group.membershipChange else { return }
        let status = group.node.status
        if status.applied >= pending.index {
            group.membershipChange = nil
            // The entry applied at that index is ours only if it carries our term.
            let term = try? group.log.term(at: pending.index)
            pending.completion(term == pending.term ? .success(status.configuration) : .failure(.outcomeUnknown))
        } else if pending.deadlineNanoseconds <= nowNanoseconds {
            group.membershipChange = nil
            pending.completion(.failure(.timedOut))
        }
    }

    func failMembershipChange(of group: GroupReplica, _ error: MembershipChangeError) {
        group.membershipChange?.completion(.failure(error))
        group.membershipChange = nil
    }

    /// The voter (other than this node) that holds the most of the log: the one that can take
    /// over at once.
    func transferTarget(of group: GroupReplica) -> NodeID? {
        let status = group.node.status
        return status.progress
            .filter { $0.key != nodeID && status.configuration.voters.contains($0.key) }
            .sorted { ($0.value.match, $1.key) > ($1.value.match, $0.key) }
            .first?.key
    }

    private static func membershipError(_ error: Error, group: GroupReplica) -> MembershipChangeError {
        switch error as? RaftError {
        case .notLeader(let leader): return .notLeader(leader: leader)
        case .configChangePending: return .changePending
        case .configChangeInvalid(let reason): return .invalid(reason)
        case .proposalDropped: return .handingOver(to: group.node.status.leadTransferee)
        default: return .overloaded
        }
    }
}
