import MOMCore

/// Who is in a Raft group. Voters elect and commit; learners only receive the log.
///
/// MOM changes membership one server at a time (see `ConfigChanger`), so `votersOutgoing` is
/// always empty in configurations this module produces. It is kept, and counted by the quorum
/// code as joint consensus would (a decision needs a majority of both halves), so the wire
/// format and the tracker need no change if joint consensus is adopted later.
public struct Configuration: Equatable, Sendable {
    /// Elect leaders and count toward commitment.
    public var voters: Set<NodeID>
    /// Receive the log without voting: new replicas catch up here before promotion.
    public var learners: Set<NodeID>
    /// The old voters during joint consensus; always empty with single-server changes.
    public var votersOutgoing: Set<NodeID>

    /// A configuration; a node may not be both voter and learner.
    public init(voters: Set<NodeID> = [], learners: Set<NodeID> = [], votersOutgoing: Set<NodeID> = []) {
        precondition(voters.isDisjoint(with: learners), "a node is a voter or a learner, not both")
        self.voters = voters
        self.learners = learners
        self.votersOutgoing = votersOutgoing
    }

    /// Every member, voter or learner, in ascending order (deterministic iteration).
    public var members: [NodeID] { voters.union(learners).union(votersOutgoing).sorted() }

    /// Whether decisions need majorities of both voter sets.
    public var isJoint: Bool { !votersOutgoing.isEmpty }

    /// Whether `id` takes part in elections and commitment.
    public func isVoter(_ id: NodeID) -> Bool { voters.contains(id) || votersOutgoing.contains(id) }
}

extension Configuration: CustomStringConvertible {
    /// Sorted ids, e.g. `voters=(1 2 3) learners=(4)`, for logs and golden tests.
    public var description: String {
        var text = "voters=(\(Configuration.list(voters)))"
        if isJoint { text += "&&(\(Configuration.list(votersOutgoing)))" }
        if !learners.isEmpty { text += " learners=(\(Configuration.list(learners)))" }
        return text
    }

    static func list(_ ids: Set<NodeID>) -> String {
        ids.sorted().map { String($0.rawValue) }.joined(separator: " ")
    }
}

/// One membership change. Carried in the data of a `.configChange` entry and applied when the
/// application has applied that entry.
public enum ConfigChange: Equatable, Sendable {
    /// Adds a voter, or promotes a learner to voter.
    case addVoter(NodeID)
    /// Adds a learner, or demotes a voter to learner.
    case addLearner(NodeID)
    /// Removes a voter or a learner.
    case removeNode(NodeID)

    /// The node the change is about.
    public var node: NodeID {
        switch self {
        case .addVoter(let id), .addLearner(let id), .removeNode(let id): return id
        }
    }
}
