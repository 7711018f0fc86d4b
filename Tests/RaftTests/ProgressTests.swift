import MOMCore
import Testing
@testable import Raft

@Suite struct InflightsTests {
    @Test func boundedByCountAndWrapsAround() {
        var inflights = Inflights(countMax: 3, bytesMax: 1_000)
        for index: UInt64 in 1...3 { inflights.add(index: LogIndex(index), bytes: 10) }
        #expect(inflights.isFull && inflights.count == 3 && inflights.bytes == 30)
        inflights.free(upTo: LogIndex(1))
        #expect(!inflights.isFull && inflights.count == 2 && inflights.bytes == 20)
        // The ring wraps: slot 0 is reused.
        inflights.add(index: LogIndex(4), bytes: 5)
        #expect(inflights.isFull)
        inflights.free(upTo: LogIndex(3))
        #expect(inflights.count == 1 && inflights.bytes == 5)
        inflights.add(index: LogIndex(5), bytes: 1)
        inflights.add(index: LogIndex(6), bytes: 1)
        inflights.free(upTo: LogIndex(100))
        #expect(inflights.count == 0 && inflights.bytes == 0)
    }

    @Test func boundedByBytes() {
        var inflights = Inflights(countMax: 100, bytesMax: 50)
        inflights.add(index: LogIndex(1), bytes: 30)
        #expect(!inflights.isFull)
        inflights.add(index: LogIndex(2), bytes: 30)  // may exceed once; then full
        #expect(inflights.isFull)
        inflights.freeFirst()
        #expect(!inflights.isFull && inflights.count == 1 && inflights.bytes == 30)
    }

    @Test func freeingBelowTheOldestDoesNothing() {
        var inflights = Inflights(countMax: 4, bytesMax: 100)
        inflights.add(index: LogIndex(5), bytes: 1)
        inflights.free(upTo: LogIndex(4))
        #expect(inflights.count == 1)
    }
}

@Suite struct ProgressTests {
    private func progress(next: UInt64, match: UInt64 = 0) -> Progress {
        var progress = Progress(next: LogIndex(next), inflightMessagesMax: 2, inflightBytesMax: 1_000, isLearner: false)
        progress.match = LogIndex(match)
        return progress
    }

    @Test func probeSendsOneMessageUntilAnswered() {
        var progress = progress(next: 5)
        #expect(!progress.isPaused)
        progress.sentEntries(count: 2, bytes: 10)
        #expect(progress.isPaused)
        #expect(progress.next == LogIndex(5))  // probing does not move next optimistically
        let updated = progress.maybeUpdate(LogIndex(6))
        #expect(updated)
        #expect(!progress.isPaused && progress.match == LogIndex(6) && progress.next == LogIndex(7))
    }

    @Test func replicatePipelinesUpToTheWindow() {
        var progress = progress(next: 5, match: 4)
        progress.becomeReplicate()
        progress.sentEntries(count: 3, bytes: 10)
        #expect(progress.next == LogIndex(8) && !progress.isPaused)
        progress.sentEntries(count: 1, bytes: 10)
        #expect(progress.next == LogIndex(9) && progress.isPaused)
        _ = progress.maybeUpdate(LogIndex(7))
        progress.inflights.free(upTo: LogIndex(7))
        #expect(!progress.isPaused)
    }

    @Test func rejectionsInReplicateFallBackToMatch() {
        var progress = progress(next: 5, match: 4)
        progress.becomeReplicate()
        progress.sentEntries(count: 5, bytes: 10)
        let decreased1 = progress.maybeDecrease(rejected: LogIndex(4), matchHint: LogIndex(0))
        #expect(!decreased1)  // stale
        let decreased2 = progress.maybeDecrease(rejected: LogIndex(7), matchHint: LogIndex(0))
        #expect(decreased2)
        #expect(progress.next == LogIndex(5))
    }

    @Test func rejectionsInProbeUseTheHint() {
        var progress = progress(next: 10, match: 2)
        let decreased3 = progress.maybeDecrease(rejected: LogIndex(5), matchHint: LogIndex(3))
        #expect(!decreased3)  // not our probe
        let decreased4 = progress.maybeDecrease(rejected: LogIndex(9), matchHint: LogIndex(6))
        #expect(decreased4)
        #expect(progress.next == LogIndex(7))
        let decreased5 = progress.maybeDecrease(rejected: LogIndex(6), matchHint: LogIndex(0))
        #expect(decreased5)
        #expect(progress.next == LogIndex(3))  // never below match + 1
    }

    @Test func snapshotStatePausesAndResumesAfterTheSnapshot() {
        var progress = progress(next: 3, match: 1)
        progress.becomeSnapshot(index: LogIndex(20))
        #expect(progress.isPaused && progress.pendingSnapshot == LogIndex(20))
        progress.becomeProbe()
        #expect(progress.next == LogIndex(21) && progress.pendingSnapshot == .zero)
    }

    @Test func aFailedSnapshotProbesFromTheMatch() {
        var progress = progress(next: 3, match: 1)
        progress.becomeSnapshot(index: LogIndex(20))
        progress.snapshotFailed()
        #expect(progress.state == .probe && progress.next == LogIndex(2))
    }

    @Test func commitIsRaisedOnlyWhenUseful() {
        var progress = progress(next: 6, match: 5)
        #expect(progress.canRaiseCommit(to: LogIndex(3)))
        progress.sentCommit(LogIndex(3))
        #expect(!progress.canRaiseCommit(to: LogIndex(3)))
        #expect(progress.canRaiseCommit(to: LogIndex(5)))
        progress.sentCommit(LogIndex(5))
        #expect(!progress.canRaiseCommit(to: LogIndex(9)))  // it holds nothing beyond 5
    }
}

@Suite struct ConfigChangerTests {
    private let base = Configuration(voters: [NodeID(1), NodeID(2)], learners: [NodeID(3)])

    @Test func addsPromotesDemotesAndRemoves() throws {
        #expect(try ConfigChanger.apply(.addVoter(NodeID(4)), to: base) == Configuration(voters: [NodeID(1), NodeID(2), NodeID(4)], learners: [NodeID(3)]))
        #expect(try ConfigChanger.apply(.addVoter(NodeID(3)), to: base) == Configuration(voters: [NodeID(1), NodeID(2), NodeID(3)]))
        #expect(try ConfigChanger.apply(.addLearner(NodeID(2)), to: base) == Configuration(voters: [NodeID(1)], learners: [NodeID(2), NodeID(3)]))
        #expect(try ConfigChanger.apply(.removeNode(NodeID(3)), to: base) == Configuration(voters: [NodeID(1), NodeID(2)]))
        #expect(try ConfigChanger.apply(.addVoter(NodeID(1)), to: base) == base)
    }

    @Test func refusesNonsense() {
        #expect(throws: RaftError.self) { try ConfigChanger.apply(.removeNode(NodeID(9)), to: base) }
        #expect(throws: RaftError.self) { try ConfigChanger.apply(.addVoter(NodeID(0)), to: base) }
        let single = Configuration(voters: [NodeID(1)])
        #expect(throws: RaftError.self) { try ConfigChanger.apply(.removeNode(NodeID(1)), to: single) }
        #expect(throws: RaftError.self) { try ConfigChanger.apply(.addLearner(NodeID(1)), to: single) }
    }
}
