import MOMCore
import Testing
@testable import Raft

@Suite struct QuorumTests {
    private func ids(_ raw: [UInt64]) -> Set<NodeID> { Set(raw.map(NodeID.init)) }

    @Test func majorityCommittedIndexIsTheMedianFromTheTop() {
        let matches: [UInt64: UInt64] = [1: 5, 2: 9, 3: 7, 4: 2, 5: 7]
        func committed(_ voters: [UInt64]) -> UInt64 {
            MajorityQuorum(voters: ids(voters)).committedIndex { LogIndex(matches[$0.rawValue] ?? 0) }.rawValue
        }
        #expect(committed([1]) == 5)
        #expect(committed([1, 2]) == 5)           // both must hold it
        #expect(committed([1, 2, 3]) == 7)        // 9, 7 | 5
        #expect(committed([1, 2, 3, 4]) == 5)     // 9, 7, 5 | 2
        #expect(committed([1, 2, 3, 4, 5]) == 7)  // 9, 7, 7 | 5, 2
        #expect(committed([1, 2, 6]) == 5)        // an unknown voter holds nothing
    }

    @Test func emptyMajorityIsNeutral() {
        let empty = MajorityQuorum(voters: [])
        #expect(empty.committedIndex { _ in .zero } == LogIndex(UInt64.max))
        #expect(empty.voteResult([:]) == .won)
    }

    @Test func voteResults() {
        let three = MajorityQuorum(voters: ids([1, 2, 3]))
        let yes = true, no = false
        #expect(three.voteResult([:]) == .pending)
        #expect(three.voteResult([NodeID(1): yes]) == .pending)
        #expect(three.voteResult([NodeID(1): yes, NodeID(2): yes]) == .won)
        #expect(three.voteResult([NodeID(1): yes, NodeID(2): no]) == .pending)
        #expect(three.voteResult([NodeID(1): no, NodeID(2): no]) == .lost)
        #expect(three.voteResult([NodeID(4): yes, NodeID(5): yes]) == .pending)  // non-voters do not count
        let four = MajorityQuorum(voters: ids([1, 2, 3, 4]))
        #expect(four.voteResult([NodeID(1): yes, NodeID(2): yes, NodeID(3): no]) == .pending)
        #expect(four.voteResult([NodeID(1): yes, NodeID(2): yes, NodeID(3): no, NodeID(4): no]) == .lost)
    }

    @Test func jointQuorumNeedsBothHalves() {
        let joint = JointQuorum(Configuration(voters: ids([1, 2, 3]), votersOutgoing: ids([3, 4, 5])))
        let matches: [UInt64: UInt64] = [1: 9, 2: 9, 3: 4, 4: 1, 5: 6]
        // Incoming {1,2,3} commits 9; outgoing {3,4,5} commits 4; joint takes the minimum.
        #expect(joint.committedIndex { LogIndex(matches[$0.rawValue] ?? 0) } == LogIndex(4))
        #expect(joint.voteResult([NodeID(1): true, NodeID(2): true]) == .pending)
        #expect(joint.voteResult([NodeID(1): true, NodeID(2): true, NodeID(4): true, NodeID(5): true]) == .won)
        #expect(joint.voteResult([NodeID(1): true, NodeID(2): true, NodeID(4): false, NodeID(5): false]) == .lost)
        let simple = JointQuorum(Configuration(voters: ids([1, 2, 3])))
        #expect(simple.voteResult([NodeID(1): true, NodeID(3): true]) == .won)
    }

    @Test func trackerCountsOnlyVotersForQuorumActivity() {
        var tracker = ProgressTracker(inflightMessagesMax: 4, inflightBytesMax: 1 << 20)
        tracker.apply(Configuration(voters: ids([1, 2, 3]), learners: ids([4])), next: LogIndex(1))
        #expect(tracker.voterIDs == [NodeID(1), NodeID(2), NodeID(3)])
        #expect(!tracker.isQuorumActive(selfID: NodeID(1)))
        tracker.progress[NodeID(4)]!.recentActive = true
        #expect(!tracker.isQuorumActive(selfID: NodeID(1)))
        tracker.progress[NodeID(3)]!.recentActive = true
        #expect(tracker.isQuorumActive(selfID: NodeID(1)))
    }
}
