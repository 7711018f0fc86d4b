import MOMCore

/// The outcome of an election so far.
enum VoteResult: Equatable {
    /// Not decided: enough voters have not answered.
    case pending
    case lost
    case won
}

/// Majority arithmetic over one voter set (etcd's quorum/majority.go).
struct MajorityQuorum {
    let voters: Set<NodeID>

    /// The highest index that a majority has acknowledged (`match` gives each voter's index).
    /// An empty set commits everything, so that it is neutral inside a joint quorum.
    func committedIndex(match: (NodeID) -> LogIndex) -> LogIndex {
        if voters.isEmpty { return LogIndex(UInt64.max) }
        let sorted = voters.map(match).sorted(by: >)
        // The (n/2 + 1)-th largest is held by a majority.
        return sorted[voters.count / 2]
    }

    /// Whether `votes` (granted or rejected, per voter) already decide the election.
    /// An empty set wins, again so that it is neutral inside a joint quorum.
    func voteResult(_ votes: [NodeID: Bool]) -> VoteResult {
        if voters.isEmpty { return .won }
        var granted = 0
        var missing = 0
        for id in voters {
            switch votes[id] {
            case true?: granted += 1
            case false?: break
            case nil: missing += 1
            }
        }
        let majority = voters.count / 2 + 1
        if granted >= majority { return .won }
        if granted + missing >= majority { return .pending }
        return .lost
    }
}

/// The quorum of a configuration: a majority of `voters`, and during joint consensus also a
/// majority of `votersOutgoing` (etcd's quorum/joint.go).
struct JointQuorum {
    let incoming: MajorityQuorum
    let outgoing: MajorityQuorum

    init(_ configuration: Configuration) {
        incoming = MajorityQuorum(voters: configuration.voters)
        outgoing = MajorityQuorum(voters: configuration.votersOutgoing)
    }

    func committedIndex(match: (NodeID) -> LogIndex) -> LogIndex {
        min(incoming.committedIndex(match: match), outgoing.committedIndex(match: match))
    }

    func voteResult(_ votes: [NodeID: Bool]) -> VoteResult {
        let first = incoming.voteResult(votes)
        let second = outgoing.voteResult(votes)
        if first == second { return first }
        if first == .lost || second == .lost { return .lost }
        return .pending
    }
}
