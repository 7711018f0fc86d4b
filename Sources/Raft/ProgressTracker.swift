import MOMCore

/// The configuration plus a leader's per-peer progress and a candidate's votes (etcd's
/// tracker/tracker.go). Every member has a progress entry; iteration is in id order so that
/// runs replay exactly.
struct ProgressTracker {
    private(set) var configuration: Configuration
    /// Invariant: keys == configuration.members.
    var progress: [NodeID: Progress] = [:]
    /// Invariant: ascending, and equal to `progress.keys`.
    private(set) var memberIDs: [NodeID] = []
    /// Votes received in the current (pre-)election.
    private(set) var votes: [NodeID: Bool] = [:]
    let inflightMessagesMax: Int
    let inflightBytesMax: Int

    init(inflightMessagesMax: Int, inflightBytesMax: Int) {
        configuration = Configuration()
        self.inflightMessagesMax = inflightMessagesMax
        self.inflightBytesMax = inflightBytesMax
    }

    var quorum: JointQuorum { JointQuorum(configuration) }

    /// Switches to `newConfiguration`, keeping the progress of members that stay and starting
    /// new members at `next` in probe state.
    mutating func apply(_ newConfiguration: Configuration, next: LogIndex) {
        configuration = newConfiguration
        var updated: [NodeID: Progress] = [:]
        for id in newConfiguration.members {
            var entry = progress[id] ?? Progress(
                next: next, inflightMessagesMax: inflightMessagesMax,
                inflightBytesMax: inflightBytesMax, isLearner: false)
            entry.isLearner = newConfiguration.learners.contains(id)
            updated[id] = entry
        }
        progress = updated
        memberIDs = newConfiguration.members
        votes = votes.filter { updated[$0.key] != nil }
    }

    /// The highest index a quorum of voters has acknowledged.
    func committedIndex() -> LogIndex {
        quorum.committedIndex { progress[$0]?.match ?? .zero }
    }

    /// Whether a quorum was heard from since the last check (the leader counts as active).
    func isQuorumActive(selfID: NodeID) -> Bool {
        var active: [NodeID: Bool] = [:]
        for id in memberIDs where configuration.isVoter(id) {
            active[id] = id == selfID || progress[id]!.recentActive
        }
        return quorum.voteResult(active) == .won
    }

    mutating func resetVotes() { votes = [:] }

    /// Records `id`'s vote; a second vote from the same node is ignored.
    mutating func recordVote(from id: NodeID, granted: Bool) {
        if votes[id] == nil { votes[id] = granted }
    }

    func tallyVotes() -> (granted: Int, rejected: Int, result: VoteResult) {
        var granted = 0
        var rejected = 0
        for id in memberIDs where configuration.isVoter(id) {
            switch votes[id] {
            case true?: granted += 1
            case false?: rejected += 1
            case nil: break
            }
        }
        return (granted, rejected, quorum.voteResult(votes))
    }

    /// Voter ids in ascending order.
    var voterIDs: [NodeID] { memberIDs.filter { configuration.isVoter($0) } }
}
