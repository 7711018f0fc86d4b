import MOMCore

/// Computes the configuration after one membership change (etcd's confchange/, simple changes
/// only).
///
/// Why single-server changes rather than joint consensus: MOM moves replicas one at a time
/// (add a learner, let it catch up, promote it, remove the old replica), which is exactly what
/// single-server changes allow, and they are far smaller to get right. Their known hazard (a
/// change committed by an old-term quorum, found by Ongaro in 2015) is closed by two rules the
/// leader enforces: it proposes no change before its own term's no-op entry is applied, and it
/// keeps at most one change pending (proposed but not applied).
enum ConfigChanger {
    /// The configuration after `change`, or an error explaining why it is refused.
    static func apply(_ change: ConfigChange, to current: Configuration) throws -> Configuration {
        precondition(!current.isJoint, "joint configurations are not produced by this module")
        var voters = current.voters
        var learners = current.learners
        switch change {
        case .addVoter(let id):
            learners.remove(id)
            voters.insert(id)
        case .addLearner(let id):
            voters.remove(id)
            learners.insert(id)
        case .removeNode(let id):
            guard voters.contains(id) || learners.contains(id) else {
                throw RaftError.configChangeInvalid("node \(id.rawValue) is not a member")
            }
            voters.remove(id)
            learners.remove(id)
        }
        guard change.node.rawValue != 0 else { throw RaftError.configChangeInvalid("node id 0 is reserved") }
        guard !voters.isEmpty else {
            throw RaftError.configChangeInvalid("removing the last voter would leave no quorum")
        }
        return Configuration(voters: voters, learners: learners)
    }
}
