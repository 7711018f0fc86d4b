import MOMCore
import Testing
@testable import Raft

private func entries(_ range: ClosedRange<UInt64>, term: UInt64) -> [Entry] {
    range.map { Entry(term: Term(term), index: LogIndex($0), data: Array("e\($0)".utf8)) }
}

@Suite struct MemoryStorageTests {
    @Test func emptyStorage() throws {
        let storage = MemoryStorage()
        #expect(try storage.firstIndex() == LogIndex(1))
        #expect(try storage.lastIndex() == .zero)
        #expect(try storage.term(at: .zero) == .zero)
        #expect(throws: RaftStorageError.unavailable) { try storage.term(at: LogIndex(1)) }
        let (hardState, configuration) = try storage.initialState()
        #expect(hardState.isEmpty && configuration == Configuration())
    }

    @Test func appendOverwritesConflictingSuffix() throws {
        let storage = MemoryStorage()
        try storage.append(entries(1...5, term: 1))
        try storage.append(entries(4...6, term: 2))
        #expect(try storage.lastIndex() == LogIndex(6))
        #expect(try storage.term(at: LogIndex(3)) == Term(1))
        #expect(try storage.term(at: LogIndex(4)) == Term(2))
        #expect(try storage.entries(from: LogIndex(3), to: LogIndex(7), maxBytes: .max).map(\.term.rawValue) == [1, 2, 2, 2])
    }

    @Test func entriesRespectMaxBytesButReturnAtLeastOne() throws {
        let storage = MemoryStorage()
        try storage.append(entries(1...5, term: 1))
        let one = Entry(term: Term(1), index: LogIndex(1), data: Array("e1".utf8)).sizeBytes
        #expect(try storage.entries(from: LogIndex(1), to: LogIndex(6), maxBytes: 0).count == 1)
        #expect(try storage.entries(from: LogIndex(1), to: LogIndex(6), maxBytes: 2 * one).count == 2)
        #expect(throws: RaftStorageError.unavailable) { try storage.entries(from: LogIndex(1), to: LogIndex(8), maxBytes: .max) }
    }

    @Test func compactionAndSnapshots() throws {
        let storage = MemoryStorage()
        try storage.append(entries(1...6, term: 3))
        let configuration = Configuration(voters: [NodeID(1)])
        let snapshot = try storage.createSnapshot(at: LogIndex(4), configuration: configuration, data: [7])
        #expect(snapshot.metadata == SnapshotMetadata(index: LogIndex(4), term: Term(3), configuration: configuration))
        try storage.compact(upTo: LogIndex(4))
        #expect(try storage.firstIndex() == LogIndex(5))
        #expect(try storage.term(at: LogIndex(4)) == Term(3))  // the snapshot's term stays known
        #expect(throws: RaftStorageError.compacted) { try storage.term(at: LogIndex(3)) }
        #expect(throws: RaftStorageError.compacted) { try storage.entries(from: LogIndex(4), to: LogIndex(6), maxBytes: .max) }
        #expect(throws: RaftStorageError.compacted) { try storage.compact(upTo: LogIndex(2)) }
        #expect(throws: RaftStorageError.snapshotOutOfDate) { try storage.createSnapshot(at: LogIndex(3), configuration: configuration, data: []) }
        // Appending entries already covered by the snapshot skips them.
        try storage.append(entries(3...7, term: 3))
        #expect(try storage.lastIndex() == LogIndex(7))
        #expect(try storage.entries(from: LogIndex(5), to: LogIndex(8), maxBytes: .max).map(\.index.rawValue) == [5, 6, 7])
    }

    @Test func applyingASnapshotReplacesTheLog() throws {
        let storage = MemoryStorage()
        try storage.append(entries(1...3, term: 1))
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: LogIndex(10), term: Term(4), configuration: Configuration(voters: [NodeID(2)])), data: [1])
        try storage.applySnapshot(snapshot)
        #expect(try storage.firstIndex() == LogIndex(11))
        #expect(try storage.lastIndex() == LogIndex(10))
        #expect(try storage.initialState().1 == Configuration(voters: [NodeID(2)]))
        #expect(throws: RaftStorageError.snapshotOutOfDate) { try storage.applySnapshot(snapshot) }
    }
}

@Suite struct RaftLogTests {
    /// A log whose storage holds 1...3 (term 1) and 4...5 (term 2), plus unstable 6...7 (term 3).
    private func makeLog() throws -> RaftLog {
        let storage = MemoryStorage()
        try storage.append(entries(1...3, term: 1) + entries(4...5, term: 2))
        var log = RaftLog(storage: storage, committedEntriesBytesMax: .max)
        log.append(entries(6...7, term: 3))
        return log
    }

    @Test func termsSpanStorageAndUnstable() throws {
        let log = try makeLog()
        #expect(log.firstIndex == LogIndex(1) && log.lastIndex == LogIndex(7))
        #expect(log.term(at: .zero) == .zero)
        #expect(log.term(at: LogIndex(5)) == Term(2))
        #expect(log.term(at: LogIndex(7)) == Term(3))
        #expect(log.term(at: LogIndex(8)) == nil)
        #expect(log.stableLastIndex == LogIndex(5))
        #expect(log.slice(from: LogIndex(4), to: LogIndex(8), maxBytes: .max)?.map(\.index.rawValue) == [4, 5, 6, 7])
    }

    @Test func findConflictByTermSkipsWholeTerms() throws {
        let log = try makeLog()
        #expect(log.findConflictByTerm(index: LogIndex(7), term: Term(2)) == (LogIndex(5), Term(2)))
        #expect(log.findConflictByTerm(index: LogIndex(7), term: Term(1)) == (LogIndex(3), Term(1)))
        #expect(log.findConflictByTerm(index: LogIndex(7), term: Term(5)) == (LogIndex(7), Term(3)))
        #expect(log.findConflictByTerm(index: LogIndex(7), term: .zero) == (.zero, .zero))
    }

    @Test func maybeAppendTruncatesConflictsAndCommits() throws {
        var log = try makeLog()
        let result1 = log.maybeAppend(index: LogIndex(5), logTerm: Term(9), commit: LogIndex(5), entries: [])
        #expect(result1 == nil)
        let last = log.maybeAppend(index: LogIndex(5), logTerm: Term(2), commit: LogIndex(9), entries: entries(6...6, term: 4))
        #expect(last == LogIndex(6))
        #expect(log.lastIndex == LogIndex(6) && log.term(at: LogIndex(6)) == Term(4))
        #expect(log.committed == LogIndex(6))  // min(leader commit, last new entry)
        // Entries we already hold change nothing.
        let result2 = log.maybeAppend(index: LogIndex(3), logTerm: Term(1), commit: LogIndex(6), entries: entries(4...5, term: 2))
        #expect(result2 == LogIndex(5))
        #expect(log.lastIndex == LogIndex(6))
    }

    @Test func upToDateComparesLastTermThenIndex() throws {
        let log = try makeLog()
        #expect(log.isUpToDate(lastIndex: LogIndex(1), term: Term(4)))
        #expect(log.isUpToDate(lastIndex: LogIndex(7), term: Term(3)))
        #expect(!log.isUpToDate(lastIndex: LogIndex(6), term: Term(3)))
        #expect(!log.isUpToDate(lastIndex: LogIndex(100), term: Term(2)))
    }

    @Test func onlyDurableCommittedEntriesAreApplied() throws {
        var log = try makeLog()
        log.commit(to: LogIndex(7))
        #expect(log.committedEntriesToApply().map(\.index.rawValue) == [1, 2, 3, 4, 5])
        // The application persists the Ready's entries, then advances.
        try (log.storage as! MemoryStorage).append(log.unstable.entries)
        log.unstable.stableTo(index: LogIndex(7), term: Term(3))
        #expect(log.committedEntriesToApply().map(\.index.rawValue) == [1, 2, 3, 4, 5], "written is not yet synced")
        log.markSynced(upTo: LogIndex(7))
        #expect(log.committedEntriesToApply().map(\.index.rawValue) == [1, 2, 3, 4, 5, 6, 7])
        log.applied(to: LogIndex(7))
        #expect(!log.hasCommittedEntriesToApply)
    }

    @Test func commitOnlyCountsCurrentTermUnlessPlanted() throws {
        var log = try makeLog()
        let result3 = log.maybeCommit(index: LogIndex(5), term: Term(3), anyTerm: false)
        #expect(!result3)
        let result4 = log.maybeCommit(index: LogIndex(5), term: Term(3), anyTerm: true)
        #expect(result4)
        let result5 = log.maybeCommit(index: LogIndex(7), term: Term(3), anyTerm: false)
        #expect(result5)
    }
}

@Suite struct UnstableLogTests {
    @Test func stableToIgnoresReplacedEntries() {
        var unstable = UnstableLog(offset: LogIndex(5))
        unstable.truncateAndAppend(entries(5...7, term: 1))
        // Replaced while the Ready was out: the old (7, term 1) is not what is stored now.
        unstable.truncateAndAppend(entries(6...6, term: 2))
        unstable.stableTo(index: LogIndex(7), term: Term(1))
        #expect(unstable.entries.count == 2)
        unstable.stableTo(index: LogIndex(6), term: Term(2))
        #expect(unstable.entries.isEmpty && unstable.offset == LogIndex(7))
    }

    @Test func truncateBeforeOffsetReplacesEverything() {
        var unstable = UnstableLog(offset: LogIndex(5))
        unstable.truncateAndAppend(entries(5...6, term: 1))
        unstable.truncateAndAppend(entries(3...3, term: 2))
        #expect(unstable.offset == LogIndex(3) && unstable.entries.map(\.index.rawValue) == [3])
    }

    @Test func snapshotSetsTheOffset() {
        var unstable = UnstableLog(offset: LogIndex(2))
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: LogIndex(9), term: Term(4)))
        unstable.restore(snapshot)
        #expect(unstable.firstIndexIfKnown == LogIndex(10))
        #expect(unstable.lastIndexIfKnown == LogIndex(9))
        #expect(unstable.term(at: LogIndex(9)) == Term(4))
        #expect(unstable.stableLastIndex == nil)
        unstable.stableSnapshotTo(index: LogIndex(9))
        #expect(unstable.stableLastIndex == LogIndex(9))
    }
}
