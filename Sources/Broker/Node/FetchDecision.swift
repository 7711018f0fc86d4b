import MOMCore

/// What a replica does with a fetch offset, given its own log's bounds. Pure, so every case is
/// tested without a cluster (FetchDecisionTests).
///
/// A follower's high watermark trails the leader's by up to a heartbeat, and a new leader's
/// trails the old one's until it commits an entry of its own term. A consumer that read up to
/// offset N on one replica may ask another one for N. Answering 416 there would tell it to
/// reset to a bound and skip or re-read records that exist (docs/chaos.md, seed 1515), so an
/// offset outside this replica's committed log is "out of range" only on the leader: below its
/// log start, or past its log end, since a leader holds every committed entry. (A leader cut
/// off from the others keeps its role for up to an election timeout and can answer 416 for
/// what a new leader committed meanwhile: docs/status.md.)
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
    /// Below the leader's log start or past its log end; or, when the caller asked for this
    /// replica only (`local=true`), outside `[log start, high watermark]` here.
    case outOfRange

    static func decide(offset: Offset, logStart: Offset, highWatermark: Offset, logEnd: Offset, onLeader: Bool, localOnly: Bool) -> FetchDecision {
        if offset >= logStart && offset <= highWatermark { return .serve }
        if localOnly { return .outOfRange }
        if !onLeader { return .askLeader }
        return offset > highWatermark && offset <= logEnd ? .awaitCommit : .outOfRange
    }
}
