import MOMCore

/// What a replica does with a fetch offset, given its own log's bounds. Pure, so every case is
/// tested without a cluster (FetchDecisionTests).
///
/// A follower's high watermark trails the leader's by up to a heartbeat, and a new leader's
/// trails the old one's until it commits an entry of its own term. A consumer that read up to
/// offset N on one replica may ask another one for N. Answering 416 there would tell it to
/// reset to a bound and skip or re-read records that exist (docs/chaos.md, seed 1515), so an
/// offset past this replica's high watermark is "out of range" only where that is certain:
/// past the leader's log end, since the leader holds every committed entry.
enum FetchDecision: Equatable, Sendable {
    /// In `[log start, high watermark]`: read here (long-polling at the high watermark).
    case serve
    /// Past the high watermark but stored here, on the leader: committed soon or never; wait
    /// (bounded by the request's `wait_ms`) and answer what is committed by then.
    case awaitCommit
    /// Past the high watermark on a follower: the leader may have it committed; ask it.
    case askLeader
    /// Below the log start, or past the leader's log end (or a follower's high watermark when
    /// the caller asked for this replica only, `local=true`).
    case outOfRange

    static func decide(offset: Offset, logStart: Offset, highWatermark: Offset, logEnd: Offset, onLeader: Bool, localOnly: Bool) -> FetchDecision {
        if offset < logStart { return .outOfRange }
        if offset <= highWatermark { return .serve }
        if onLeader { return offset <= logEnd ? .awaitCommit : .outOfRange }
        return localOnly ? .outOfRange : .askLeader
    }
}
