import MOMCore
import Raft
import Simulation
import Testing

/// Every checker fails on a hand-made bad history, and passes the matching good one.
@Suite struct SafetyCheckerTests {
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)

    func entry(_ index: UInt64, _ term: UInt64, _ data: [UInt8] = []) -> Entry {
        Entry(term: Term(term), index: LogIndex(index), data: data)
    }

    func image(_ entries: [Entry], commit: UInt64 = 1) -> DiskImage {
        let bootstrap = Snapshot(metadata: SnapshotMetadata(index: LogIndex(1), term: Term(1)))
        return DiskImage(snapshot: bootstrap, entries: entries, hardState: HardState(term: Term(9), commit: LogIndex(commit)))
    }

    func properties(_ checker: SafetyChecker) -> [SafetyViolation.Property] { checker.violations.map(\.property) }

    @Test func twoLeadersInOneTerm() {
        var checker = SafetyChecker(bootstrapIndex: LogIndex(1))
        checker.observeLeader(n1, term: Term(2))
        checker.observeLeader(n1, term: Term(2))
        checker.observeLeader(n2, term: Term(3))
        #expect(checker.violations.isEmpty)
        checker.observeLeader(n3, term: Term(2))
        #expect(properties(checker) == [.electionSafety])
    }

    @Test func committedEntryChanges() {
        var checker = SafetyChecker(bootstrapIndex: LogIndex(1))
        checker.observeCommitted(entry(2, 2, [1]), by: n1, nodeTerm: Term(2))
        checker.observeCommitted(entry(2, 2, [1]), by: n2, nodeTerm: Term(3))
        #expect(checker.violations.isEmpty)
        checker.observeCommitted(entry(2, 3, [1]), by: n3, nodeTerm: Term(3))
        #expect(properties(checker) == [.stateMachineSafety])
    }

    @Test func appliedOutOfOrderOrDifferent() {
        var checker = SafetyChecker(bootstrapIndex: LogIndex(1))
        checker.observeApplied(entry(2, 2), by: n1, previous: LogIndex(1), nodeTerm: Term(2))
        checker.observeApplied(entry(3, 2), by: n1, previous: LogIndex(2), nodeTerm: Term(2))
        checker.observeApplied(entry(2, 2), by: n2, previous: LogIndex(1), nodeTerm: Term(2))
        #expect(checker.violations.isEmpty)
        checker.observeApplied(entry(4, 2), by: n2, previous: LogIndex(2), nodeTerm: Term(2))  // skipped 3
        #expect(properties(checker) == [.stateMachineSafety])
        checker.observeApplied(entry(3, 3), by: n3, previous: LogIndex(2), nodeTerm: Term(3))  // differs from n1's 3
        #expect(properties(checker) == [.stateMachineSafety, .stateMachineSafety])
    }

    @Test func proposalCommittedTwice() {
        var checker = SafetyChecker(bootstrapIndex: LogIndex(1))
        let data = ClientProposal(id: 7).encoded()
        checker.observeCommitted(entry(2, 2, data), by: n1, nodeTerm: Term(2))
        #expect(checker.committedIndex(ofProposal: 7) == LogIndex(2))
        checker.observeCommitted(entry(3, 2, data), by: n1, nodeTerm: Term(2))
        #expect(properties(checker) == [.stateMachineSafety])
    }

    @Test func leaderLacksCommittedEntry() {
        var checker = SafetyChecker(bootstrapIndex: LogIndex(1))
        checker.observeCommitted(entry(2, 2, [1]), by: n1, nodeTerm: Term(2))
        checker.observeCommitted(entry(3, 2, [2]), by: n1, nodeTerm: Term(2))
        // A leader of the same term need not be checked; a later one holding both is fine.
        checker.checkLeaderCompleteness(leader: n2, term: Term(3), log: image([entry(2, 2, [1]), entry(3, 2, [2]), entry(4, 3)]))
        #expect(checker.violations.isEmpty)
        // Shorter log: lacks index 3.
        checker.checkLeaderCompleteness(leader: n3, term: Term(4), log: image([entry(2, 2, [1])]))
        #expect(properties(checker) == [.leaderCompleteness])
        // Different entry at index 3 (Figure 8's overwrite).
        checker.checkLeaderCompleteness(leader: n3, term: Term(5), log: image([entry(2, 2, [1]), entry(3, 4)]))
        #expect(properties(checker) == [.leaderCompleteness, .leaderCompleteness])
    }

    @Test func entriesCommittedInALaterTermAreNotRequiredOfEarlierLeaders() {
        var checker = SafetyChecker(bootstrapIndex: LogIndex(1))
        checker.observeCommitted(entry(2, 5), by: n1, nodeTerm: Term(5))
        checker.checkLeaderCompleteness(leader: n2, term: Term(4), log: image([]))
        #expect(checker.violations.isEmpty)
    }

    @Test func logsThatAgreeOnATermButNotBefore() {
        var checker = SafetyChecker(bootstrapIndex: LogIndex(1))
        let a = image([entry(2, 2, [1]), entry(3, 2, [2]), entry(4, 3)])
        let b = image([entry(2, 2, [1]), entry(3, 2, [2]), entry(4, 3), entry(5, 3)])
        let divergentTail = image([entry(2, 2, [1]), entry(3, 4), entry(4, 4)])
        checker.checkLogMatching([(n1, a), (n2, b), (n3, divergentTail)])
        #expect(checker.violations.isEmpty)
        let bad = image([entry(2, 2, [9]), entry(3, 2, [2]), entry(4, 3)])  // same (4, t3), differs at 2
        checker.checkLogMatching([(n1, a), (n2, bad)])
        #expect(properties(checker) == [.logMatching])
        let sameSlotDifferentData = image([entry(2, 2, [1]), entry(3, 2, [7])])
        checker.checkLogMatching([(n1, a), (n2, sameSlotDifferentData)])
        #expect(properties(checker) == [.logMatching, .logMatching])
    }

    @Test func durableLogLosesCommittedEntry() {
        var checker = SafetyChecker(bootstrapIndex: LogIndex(1))
        checker.observeCommitted(entry(2, 2, [1]), by: n1, nodeTerm: Term(2))
        checker.checkCommittedPrefix(of: n2, log: image([entry(2, 2, [1])], commit: 2))
        checker.checkCommittedPrefix(of: n2, log: image([entry(2, 3)], commit: 1))  // not committed there
        #expect(checker.violations.isEmpty)
        checker.checkCommittedPrefix(of: n3, log: image([entry(2, 3)], commit: 2))
        #expect(properties(checker) == [.stateMachineSafety])
    }

    @Test func snapshotWithWrongState() {
        var checker = SafetyChecker(bootstrapIndex: LogIndex(1))
        var machine = StateMachine(appliedIndex: LogIndex(1))
        for e in [entry(2, 2, [1]), entry(3, 2, [2])] {
            checker.observeCommitted(e, by: n1, nodeTerm: Term(2))
            machine.apply(e)
        }
        checker.observeRestored(n2, index: LogIndex(3), digest: machine.digest)
        #expect(checker.violations.isEmpty)
        checker.observeRestored(n3, index: LogIndex(3), digest: machine.digest ^ 1)
        #expect(properties(checker) == [.stateMachineSafety])
    }
}
