import MOMCore
import Raft

/// The loop thread's body: everything here runs on one thread and touches `groups` freely.
extension ReplicationHost {
    func runLoop() {
        let tickNanoseconds = settings.tickMilliseconds * 1_000_000
        var nextTick = clock.monotonicNanoseconds() + tickNanoseconds
        var batch: [Command] = []
        var moreWork = false
        while !stopped {
            // Advancing a Ready can make the next one ready at once (a lone voter's own durable
            // append commits its entry): then loop without waiting for a message or a tick.
            if let waiter {
                let now = clock.monotonicNanoseconds()
                let wait = moreWork || inbox.hasWork || nextTick <= now ? 0 : (nextTick - now + 999_999) / 1_000_000
                waiter.poll(waitMillisecondsMax: wait)
                inbox.drain(waitingUntil: 0, into: &batch)
            } else {
                inbox.drain(waitingUntil: moreWork ? 0 : nextTick, into: &batch)
            }
            for command in batch { handle(command) }
            batch.removeAll(keepingCapacity: true)
            completeFinishedSyncs()
            let now = clock.monotonicNanoseconds()
            if now >= nextTick {
                tickGroups()
                tickCount += 1
                earlyMessages.expire(tick: tickCount)
                nextTick = max(nextTick + tickNanoseconds, now + tickNanoseconds / 2)
            }
            // A stepped sync (simulated file system) finishes only when the loop comes round.
            moreWork = processReadies(nowNanoseconds: now) || (background?.needsPass ?? false)
            wakeLeaderWaiters(nowNanoseconds: clock.monotonicNanoseconds())
            if stopping { shutDown() }
        }
        // A shared transport writes only when the loop polls it: one last turn sends what the
        // shutdown queued (the failed proposals' relay answers).
        waiter?.poll(waitMillisecondsMax: 0)
        waiter?.loopEnded()
    }

    private func handle(_ command: Command) {
        switch command {
        case let .message(from, groupID, message):
            precondition(message.from == from || from == nodeID, "transport and message disagree on the sender")
            if settings.quiesce && from != nodeID { liveness.heard(from, tick: tickCount) }
            guard let group = groups[groupID] else {
                earlyMessages.keep(message, from: from, group: groupID, tick: tickCount)
                return
            }
            try? group.node.step(message)
            touch(group)
        case let .propose(groupID, entries, deadline, completion):
            propose(groupID, entries, deadline: deadline, completion: completion)
        case let .waitForCommit(groupID, index, deadline, wake):
            guard let group = groups[groupID] else { return wake(.failure(.unknownGroup(groupID))) }
            guard group.commitWaiters.count < settings.commitWaitersMax else { return wake(.failure(.overloaded)) }
            group.commitWaiters.add(.init(afterIndex: index, deadlineNanoseconds: deadline, wake: wake))
        case let .addGroup(groupID, log, stateMachine, bootstrap, campaign, completion):
            do {
                try hostGroup(groupID, log: log, stateMachine: stateMachine, bootstrap: bootstrap, campaign: campaign, completion: completion)
            } catch {
                completion(.failure(error))
            }
        case let .removeGroup(groupID):
            groups[groupID]?.proposals.failAll(.unknownGroup(groupID))
            groups[groupID]?.commitWaiters.failAll(.unknownGroup(groupID))
            if let group = groups[groupID] {
                failMembershipChange(of: group, .unknownGroup(groupID))
                failConfirmations(of: group, .unknownGroup(groupID))
            }
            removeGroupEntry(groupID)
            unpublish(groupID)
        case let .transferLeadership(groupID, peer):
            guard let group = groups[groupID] else { return }
            group.node.transferLeadership(to: peer)
            touch(group)
        case let .campaign(groupID):
            guard let group = groups[groupID] else { return }
            try? group.node.campaign()
            touch(group)
        case let .waitForLeader(groupID, deadline, wake):
            guard leaderWaiters.count < settings.commitWaitersMax else { return wake(nil) }
            leaderWaiters.append((groupID, deadline, wake))
        case let .run(body):
            body(self)
        case let .heard(peer):
            liveness.heard(peer, tick: tickCount)
        }
    }

    private func propose(
        _ groupID: GroupID, _ entries: [[UInt8]], deadline: UInt64,
        completion: @escaping @Sendable (Result<ClosedRange<LogIndex>, ReplicationError>) -> Void
    ) {
        guard let group = groups[groupID] else { return completion(.failure(.unknownGroup(groupID))) }
        guard group.isLeader else { return completion(.failure(.notLeader(leader: group.leader))) }
        touch(group)
        let first = group.node.lastIndex.next
        let term = group.node.term
        do {
            // One append for the whole batch: followers get it in one message, and the disk in
            // one write.
            try group.node.propose(contentsOf: entries)
        } catch {
            return completion(.failure(mapProposalError(error)))
        }
        let last = group.node.lastIndex
        precondition(last.rawValue == first.rawValue + UInt64(entries.count) - 1, "proposed entries are not contiguous")
        group.proposals.add(.init(first: first, last: last, term: term, deadlineNanoseconds: deadline, completion: completion))
    }

    private func mapProposalError(_ error: Error) -> ReplicationError {
        switch error as? RaftError {
        case .notLeader(let leader): return .notLeader(leader: leader)
        case .uncommittedLimit, .proposalDropped: return .overloaded
        default: return .overloaded
        }
    }

    /// Calls `completion` once the group's files are durable: at once, or with the pass's
    /// batched sync when the log deferred them (`DeferredDurability`). Until then nothing of the
    /// group leaves the node, and its status is not published.
    private func hostGroup(
        _ id: GroupID, log: any GroupLog, stateMachine: any GroupStateMachine, bootstrap: Configuration?, campaign: Bool,
        completion: @escaping @Sendable (Result<Void, Error>) -> Void
    ) throws {
        guard groups[id] == nil else { return completion(.success(())) }
        var campaign = campaign
        if let bootstrap, try log.lastIndex() == .zero, try log.initialState().1.members.isEmpty {
            try log.bootstrap(bootstrap)
        } else {
            campaign = false
        }
        var config = RaftConfig(id: nodeID, limits: settings.limits)
        config.electionTicks = settings.electionTicks
        config.heartbeatTicks = settings.heartbeatTicks
        config.quiesce = settings.quiesce
        let node = try RawNode(config: config, storage: log, random: SeededRandom(seed: random.next()))
        let replica = GroupReplica(id: id, node: node, log: log, stateMachine: stateMachine)
        insertGroup(replica)
        // A lone voter needs no election timeout; a brand-new group's preferred leader campaigns
        // at once, so a new partition serves within a round trip instead of a timeout.
        let voters = node.status.configuration.voters
        if voters == [nodeID] || (campaign && voters.contains(nodeID)) { try? node.campaign() }
        // Messages its peers sent before this node created the group (EarlyMessages).
        for early in earlyMessages.take(id) { try? node.step(early.message) }
        if log.hasDeferredWrites {
            deferredDurability.add(replica, completion: completion)
        } else {
            publishStatus(of: replica)
            completion(.success(()))
        }
    }

    /// Wakes leader waiters whose group now has a leader, and those whose time ran out.
    func wakeLeaderWaiters(nowNanoseconds: UInt64) {
        guard !leaderWaiters.isEmpty else { return }
        var remaining: [(group: GroupID, deadline: UInt64, wake: @Sendable (NodeID?) -> Void)] = []
        for waiter in leaderWaiters {
            if let leader = groups[waiter.group]?.leader {
                waiter.wake(leader)
            } else if waiter.deadline <= nowNanoseconds || stopping {
                waiter.wake(nil)
            } else {
                remaining.append(waiter)
            }
        }
        leaderWaiters = remaining
    }

    private func shutDown() {
        for group in groups.values {
            group.proposals.failAll(.stopped)
            group.commitWaiters.failAll(.stopped)
            failMembershipChange(of: group, .stopped)
            failConfirmations(of: group, .stopped)
        }
        stopped = true
    }
}
