import MOMCore

/// Which `__meta` learner to remove because its node has been gone from ZooKeeper's live set
/// for `graceMilliseconds`: a stopped broker would otherwise stay a member for ever (and be
/// listed as one). Pure: the `__meta` leader feeds it the configuration, the live set and a
/// monotonic clock on every pass. The grace rides out a restart or a ZooKeeper session that
/// flapped, and a learner's absence never blocks a quorum, so there is no hurry.
struct LearnerExpiry: Equatable, Sendable {
    static let defaultGraceMilliseconds: UInt64 = 30_000

    let graceMilliseconds: UInt64
    /// When each absent learner was first seen absent. Holds current learners only, so it is
    /// bounded by `__meta`'s membership.
    private(set) var absentSince: [NodeID: UInt64] = [:]

    init(graceMilliseconds: UInt64 = defaultGraceMilliseconds) { self.graceMilliseconds = graceMilliseconds }

    /// One observation; returns the learner to remove now, if any (the lowest ID: one
    /// membership change at a time). A learner that is a target voter is kept: the operator
    /// asked for it, and removing it would only have it added again.
    mutating func observe(learners: Set<NodeID>, live: Set<NodeID>, targetVoters: Set<NodeID>, nowMilliseconds: UInt64) -> NodeID? {
        let absent = learners.subtracting(live).subtracting(targetVoters)
        absentSince = absentSince.filter { absent.contains($0.key) }
        for id in absent where absentSince[id] == nil { absentSince[id] = nowMilliseconds }
        return absent.filter { nowMilliseconds - absentSince[$0]! >= graceMilliseconds }.min()
    }

    /// Forgets every observation (this node stopped leading `__meta`: the next leader, or this
    /// one later, starts its grace afresh rather than trusting stale times).
    mutating func reset() { absentSince = [:] }
}
