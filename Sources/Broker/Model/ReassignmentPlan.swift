import MOMCore

/// The next single-server membership change that moves a group's Raft configuration toward its
/// catalog target, as its leader sees it. Pure: the driver feeds it the leader's status on
/// every pass, so a target changed midway or a driver that crashed is simply re-planned from
/// the configuration in force.
///
/// Order (Kafka's and Redpanda's too): grow first, shrink last, so the group never has fewer
/// caught-up voters than it had. New nodes join as learners and become voters only once they
/// hold (nearly) the whole log, so a slow newcomer can never stall the commit quorum.
enum ReassignmentStep: Hashable, Sendable {
    case addLearner(NodeID)
    case promote(NodeID)
    case remove(NodeID)
    /// The leader itself leaves: hand leadership to this target voter first.
    case handOver(to: NodeID)
    /// A learner is still catching up; nothing to do this pass.
    case waitForCatchUp(NodeID)
}

enum ReassignmentPlan {
    /// A learner this close to the leader's last index counts as caught up.
    static let caughtUpLag: UInt64 = 64

    /// The next step, or nil when the configuration is the target (no learners left).
    /// `lag` is the leader's per-member lag behind its last index. `keepingOtherLearners` is
    /// for `__meta`, whose learners are every live broker outside its voters: only the voter
    /// set moves to the target, and a voter that leaves is removed (the `__meta` leader adds
    /// it back as a learner while it stays live, `MembershipReconciler`).
    static func nextStep(
        leader: NodeID, voters: Set<NodeID>, learners: Set<NodeID>, lag: [NodeID: UInt64], target: [NodeID],
        keepingOtherLearners: Bool = false
    ) -> ReassignmentStep? {
        let wanted = Set(target)
        // A learner nobody wants any more (the target changed while it caught up).
        if !keepingOtherLearners, let stray = learners.subtracting(wanted).min() { return .remove(stray) }
        if let missing = target.first(where: { !voters.contains($0) && !learners.contains($0) }) {
            return .addLearner(missing)
        }
        if let learner = target.first(where: { learners.contains($0) }) {
            return (lag[learner] ?? .max) <= caughtUpLag ? .promote(learner) : .waitForCatchUp(learner)
        }
        let leaving = voters.subtracting(wanted)
        if let other = leaving.subtracting([leader]).min() { return .remove(other) }
        if leaving.contains(leader) {
            // Every target node is a voter by now; the one closest to the log takes over.
            let successor = target.min { (lag[$0] ?? .max, $0) < (lag[$1] ?? .max, $1) }!
            return .handOver(to: successor)
        }
        return nil
    }
}
