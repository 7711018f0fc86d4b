import MOMCore
import Raft

/// Leadership confirmations of one group waiting for their ReadIndex round (loop thread only).
///
/// Raft answers a ReadIndex request with a `ReadState` carrying the request's context, or never:
/// it drops requests silently when its queue is full and forgets every pending one when the node
/// changes role or term. So each waiter has a deadline, and a waiter whose term ended is failed
/// here rather than left to wait for an answer that cannot come.
struct ReadIndexWaiters {
    struct Waiter {
        /// The term this node led in when the request was made.
        let term: Term
        let deadlineNanoseconds: UInt64
        let completion: @Sendable (Result<LeadershipConfirmation, ReplicationError>) -> Void
    }

    /// Keyed by request number, which the request's context encodes.
    private var waiters: [UInt64: Waiter] = [:]
    /// The last request number handed out. Contexts must be unique among a node's pending
    /// requests; a counter per group never repeats one.
    private var lastNumber: UInt64 = 0

    var count: Int { waiters.count }

    /// Registers `waiter` and returns the context to pass to `RawNode.readIndex(context:)`.
    mutating func add(_ waiter: Waiter) -> [UInt8] {
        lastNumber += 1
        waiters[lastNumber] = waiter
        return Self.context(of: lastNumber)
    }

    /// A waiter taken out, with its outcome. The caller completes it once the waiters are
    /// consistent again, so a completion may start another confirmation of the same group.
    struct Settled {
        let waiter: Waiter
        let result: Result<LeadershipConfirmation, ReplicationError>
        func complete() { waiter.completion(result) }
    }

    /// Takes the waiters whose read state arrived. `leaderTerm` is the term this node leads in
    /// now (nil when it does not lead): Raft publishes a read state only while leading, and a
    /// node leads at most once per term, so a waiter of that same term was led through without
    /// a break from its request until now.
    mutating func answer(_ states: [ReadState], leaderTerm: Term?, leader: NodeID?) -> [Settled] {
        states.compactMap { state in
            guard let number = Self.number(of: state.context), let waiter = waiters.removeValue(forKey: number) else { return nil }
            guard waiter.term == leaderTerm else { return Settled(waiter: waiter, result: .failure(.notLeader(leader: leader))) }
            return Settled(waiter: waiter, result: .success(LeadershipConfirmation(term: waiter.term, readIndex: state.index)))
        }
    }

    /// Takes the waiters whose term this node no longer leads in (Raft dropped their requests)
    /// and those whose deadline passed (the heartbeat round found no quorum in time).
    mutating func expire(leaderTerm: Term?, leader: NodeID?, nowNanoseconds: UInt64) -> [Settled] {
        var settled: [Settled] = []
        for (number, waiter) in waiters {
            if waiter.term != leaderTerm {
                settled.append(Settled(waiter: waiter, result: .failure(.notLeader(leader: leader))))
            } else if waiter.deadlineNanoseconds <= nowNanoseconds {
                settled.append(Settled(waiter: waiter, result: .failure(.timedOut)))
            } else {
                continue
            }
            waiters[number] = nil
        }
        return settled
    }

    /// Takes every waiter (group removed or stopped, host stopping).
    mutating func failAll(_ error: ReplicationError) -> [Settled] {
        defer { waiters.removeAll() }
        return waiters.values.map { Settled(waiter: $0, result: .failure(error)) }
    }

    static func context(of number: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: number >> (56 - 8 * $0)) }
    }

    /// nil for a context this host did not make (only its own requests are answered here).
    static func number(of context: [UInt8]) -> UInt64? {
        guard context.count == 8 else { return nil }
        return context.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
