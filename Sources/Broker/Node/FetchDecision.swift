import MOMCore

/// What a replica does with a fetch offset, given its own log's bounds. Pure, so every case is
/// tested without a cluster (FetchDecisionTests).
///
/// A follower's high watermark trails the leader's by up to a heartbeat, and a new leader's
/// trails the old one's until it commits an entry of its own term. A consumer that read up to
/// offset N on one replica may ask another one for N. Answering 416 there would tell it to
/// reset to a bound and skip or re-read records that exist (docs/chaos.md, seed 1515), so an
/// offset outside this replica's committed log is "out of range" only on the leader: below its
/// log start, or past its log end, since a leader holds every committed entry.
///
/// "Past its log end" holds only while the node really leads: one cut off from the others
/// keeps its role until check-quorum deposes it, while a new leader may commit past its end.
/// So the leader first confirms its leadership (a ReadIndex round, Raft thesis §6.4) and
/// decides again with bounds read after it, in the term it was confirmed in. Below the log
/// start needs no round: every index below a log start was committed before retention removed
/// it, and no leader ever commits there again, so no change of leader makes such an offset
/// readable; that another replica may still hold it (its retention has not run yet) is the
/// same with a current leader, whose log start is the one that counts.
enum FetchDecision: Equatable, Sendable {
    /// In `[log start, high watermark]`: read here (long-polling at the high watermark).
    case serve
    /// Past the high watermark but stored here, on the leader: committed soon or never; wait
    /// (bounded by the request's `wait_ms`) and answer what is committed by then.
    case awaitCommit
    /// Outside this follower's committed log: past its high watermark (the leader may have it
    /// committed) or below its log start (retention runs on each replica, so the leader's log
    /// may start earlier); ask the leader.
    case askLeader
    /// Past the log end of a leader not yet confirmed in its current term: confirm leadership,
    /// then decide again (out of range if the offset is still past the log end).
    case confirmLeadership
    /// Below the leader's log start, or past its log end once confirmed; or, when the caller
    /// asked for this replica only (`local=true`), outside `[log start, high watermark]` here.
    case outOfRange

    static func decide(
        offset: Offset, logStart: Offset, highWatermark: Offset, logEnd: Offset,
        onLeader: Bool, leadershipConfirmed: Bool, localOnly: Bool
    ) -> FetchDecision {
        if offset >= logStart && offset <= highWatermark { return .serve }
        if localOnly { return .outOfRange }
        if !onLeader { return .askLeader }
        if offset < logStart { return .outOfRange }
        if offset <= logEnd { return .awaitCommit }
        return leadershipConfirmed ? .outOfRange : .confirmLeadership
    }
}
