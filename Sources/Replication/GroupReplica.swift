import MOMCore
import Raft

/// One Raft group on this node, owned by the replication loop thread.
final class GroupReplica {
    let id: GroupID
    var node: RawNode
    let log: any GroupLog
    let stateMachine: any GroupStateMachine
    var proposals = ProposalTracker()
    var commitWaiters = CommitWaiters()
    var readIndexWaiters = ReadIndexWaiters()
    var leaderChanges: UInt64 = 0
    var lastKnownLeader: NodeID?
    /// Asynchronous storage writes: the ticket of the newest unfinished background sync that
    /// covers a write of this group (0: none). Its messages that vouch for durability wait for it.
    var unsyncedTicket: UInt64 = 0
    /// The membership change this node proposed and waits for (at most one: Raft allows one).
    var membershipChange: PendingMembershipChange?
    /// In the host's `touchedGroups` (the next pass asks this group for a Ready).
    var touched = false
    /// The last published status showed no follower lag (always so on a follower): a Ready
    /// with nothing but messages then changes nothing the status shows.
    var publishedWithoutLag = false

    /// Whether a pass must look at this group even without a Ready: proposals or a membership
    /// change to expire or settle, long-polls to wake, leadership confirmations to expire.
    var hasPendingWork: Bool {
        proposals.count > 0 || commitWaiters.count > 0 || membershipChange != nil || readIndexWaiters.count > 0
    }

    init(id: GroupID, node: RawNode, log: any GroupLog, stateMachine: any GroupStateMachine) {
        self.id = id
        self.node = node
        self.log = log
        self.stateMachine = stateMachine
    }

    // `basicStatus`, not `status`: these run per proposal, and `status` copies the progress map.
    var isLeader: Bool { node.basicStatus.role == .leader }
    var leader: NodeID? { node.basicStatus.leader }

    func status() -> GroupStatus {
        let status = node.status
        var lag: [NodeID: UInt64] = [:]
        for (peer, progress) in status.progress where peer != status.id {
            lag[peer] = status.lastIndex.rawValue &- min(progress.match.rawValue, status.lastIndex.rawValue)
        }
        return GroupStatus(
            group: id, role: status.softState.role, leader: status.softState.leader,
            term: status.hardState.term, commit: status.hardState.commit, applied: status.applied,
            lastIndex: status.lastIndex, firstIndex: status.firstIndex,
            voters: status.configuration.voters.sorted(), learners: status.configuration.learners.sorted(),
            configurationIndex: status.configurationIndex,
            followerLag: lag, leaderChanges: leaderChanges)
    }
}

/// Proposals waiting for their entries to commit and apply. An entry proposed at (index, term)
/// succeeded once the entry applied at that index carries that term; any other term there means
/// the leader lost it.
struct ProposalTracker {
    struct Pending {
        let first: LogIndex
        let last: LogIndex
        let term: Term
        let deadlineNanoseconds: UInt64
        let completion: @Sendable (Result<ClosedRange<LogIndex>, ReplicationError>) -> Void
    }

    /// In proposal order, so in index order.
    private(set) var pending: [Pending] = []
    private var head = 0

    var count: Int { pending.count - head }

    mutating func add(_ item: Pending) {
        precondition(count == 0 || pending[pending.count - 1].last < item.first, "proposals out of index order")
        pending.append(item)
    }

    /// Completes the proposals covered by applied entries. Checking the term of a proposal's last
    /// entry is enough: one leader per term writes each index once, so by Log Matching the entries
    /// before it are the ones that leader appended with it.
    mutating func applied(_ entries: [Entry]) {
        guard let lastApplied = entries.last?.index, count > 0 else { return }
        let firstInBatch = entries[0].index
        while head < pending.count, pending[head].last <= lastApplied {
            let item = pending[head]
            precondition(item.last >= firstInBatch, "a proposal's last entry was applied before it was tracked")
            let entry = entries[Int(item.last.rawValue - firstInBatch.rawValue)]
            assert(entry.index == item.last, "committed entries are contiguous")
            item.completion(entry.term == item.term ? .success(item.first...item.last) : .failure(.outcomeUnknown))
            head += 1
        }
        compactIfNeeded()
    }

    /// Fails proposals whose deadline passed (a partitioned ex-leader must not hang clients).
    mutating func expire(nowNanoseconds: UInt64) {
        while head < pending.count, pending[head].deadlineNanoseconds <= nowNanoseconds {
            pending[head].completion(.failure(.outcomeUnknown))
            head += 1
        }
        compactIfNeeded()
    }

    mutating func failAll(_ error: ReplicationError) {
        while head < pending.count {
            pending[head].completion(.failure(error))
            head += 1
        }
        compactIfNeeded()
    }

    private mutating func compactIfNeeded() {
        if head == pending.count {
            pending.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024 {
            pending.removeFirst(head)
            head = 0
        }
    }
}

/// Long-poll readers waiting for the commit index to pass an index.
struct CommitWaiters {
    struct Waiter {
        let afterIndex: LogIndex
        let deadlineNanoseconds: UInt64
        let wake: @Sendable (Result<LogIndex, ReplicationError>) -> Void
    }

    private(set) var waiters: [Waiter] = []

    var count: Int { waiters.count }

    mutating func add(_ waiter: Waiter) { waiters.append(waiter) }

    /// Wakes waiters whose index is now committed, and those whose deadline passed.
    mutating func update(commit: LogIndex, nowNanoseconds: UInt64) {
        guard !waiters.isEmpty else { return }
        var remaining: [Waiter] = []
        for waiter in waiters {
            if commit > waiter.afterIndex {
                waiter.wake(.success(commit))
            } else if waiter.deadlineNanoseconds <= nowNanoseconds {
                waiter.wake(.failure(.timedOut))
            } else {
                remaining.append(waiter)
            }
        }
        waiters = remaining
    }

    mutating func failAll(_ error: ReplicationError) {
        for waiter in waiters { waiter.wake(.failure(error)) }
        waiters.removeAll()
    }
}
