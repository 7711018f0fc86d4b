import MOMCore
import Raft
import SystemIO
import Testing
@testable import Replication

@Suite struct SegmentGroupLogTests {
    static func entries(_ range: ClosedRange<UInt64>, term: UInt64, kind: EntryKind = .normal) -> [Entry] {
        range.map { Entry(term: Term(term), index: LogIndex($0), kind: kind, data: Array("e\($0)t\(term)".utf8)) }
    }

    static func open(_ fileSystem: any FileSystem, _ directory: String = "/data/g1") throws -> SegmentGroupLog {
        try SegmentGroupLog(directory: directory, fileSystem: fileSystem, limits: .standard, clock: ManualClock())
    }

    @Test func appendsReadsAndSurvivesReopen() throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let log = try Self.open(fileSystem)
        try log.bootstrap(Configuration(voters: [NodeID(1), NodeID(2), NodeID(3)]))
        try log.append(Self.entries(1...5, term: 1) + Self.entries(6...6, term: 2, kind: .configChange))
        try log.save(HardState(term: Term(2), vote: NodeID(1), commit: LogIndex(4)))
        try log.sync()
        #expect(try log.lastIndex() == LogIndex(6))
        #expect(try log.term(at: LogIndex(3)) == Term(1))
        #expect(try log.entries(from: LogIndex(2), to: LogIndex(7), maxBytes: 1 << 20) == Array(Self.entries(2...5, term: 1) + Self.entries(6...6, term: 2, kind: .configChange)))

        fileSystem.crash()
        let reopened = try Self.open(fileSystem)
        #expect(try reopened.lastIndex() == LogIndex(6), "synced entries survive a crash")
        #expect(try reopened.entries(from: LogIndex(1), to: LogIndex(7), maxBytes: 1 << 20).map(\.kind).last == .configChange)
        let (hard, configuration) = try reopened.initialState()
        #expect(hard.term == Term(2) && hard.vote == NodeID(1))
        #expect(configuration.voters == [NodeID(1), NodeID(2), NodeID(3)])
    }

    /// `raft-state` is replaced durably on a term change with the commit index of the moment,
    /// which may cover entries not synced yet; after a crash the commit index is lowered to the
    /// log's end, and a Raft node starts on it (it used to refuse: commit beyond the last index).
    @Test func aCommitIndexAheadOfTheSurvivingLogIsLowered() throws {
        let fileSystem = SimulatedFileSystem(seed: 21)
        let log = try Self.open(fileSystem)
        try log.bootstrap(Configuration(voters: [NodeID(1), NodeID(2), NodeID(3)]))
        try log.append(Self.entries(1...3, term: 1))
        try log.sync()
        try log.append(Self.entries(4...8, term: 1))
        try log.save(HardState(term: Term(2), vote: nil, commit: LogIndex(8)))
        fileSystem.crash()
        let reopened = try Self.open(fileSystem)
        #expect(try reopened.lastIndex() == LogIndex(3), "the unsynced entries are gone")
        let (hard, _) = try reopened.initialState()
        #expect(hard.term == Term(2), "the term was made durable")
        #expect(hard.commit == LogIndex(3))
        let node = try RawNode(config: RaftConfig(id: NodeID(1)), storage: reopened, random: SeededRandom(seed: 1))
        #expect(node.status.hardState.commit == LogIndex(3))
    }

    @Test func conflictingAppendReplacesTheSuffix() throws {
        let fileSystem = SimulatedFileSystem(seed: 2)
        let log = try Self.open(fileSystem)
        try log.append(Self.entries(1...6, term: 1))
        try log.append(Self.entries(4...5, term: 3))
        #expect(try log.lastIndex() == LogIndex(5))
        #expect(try log.term(at: LogIndex(4)) == Term(3))
        #expect(try log.term(at: LogIndex(3)) == Term(1))
        try log.sync()
        fileSystem.crash()
        let reopened = try Self.open(fileSystem)
        #expect(try reopened.entries(from: LogIndex(1), to: LogIndex(6), maxBytes: 1 << 20) == Self.entries(1...3, term: 1) + Self.entries(4...5, term: 3))
    }

    @Test func unsyncedEntriesMayBeLostButNothingTorn() throws {
        let fileSystem = SimulatedFileSystem(seed: 3)
        let log = try Self.open(fileSystem)
        try log.append(Self.entries(1...3, term: 1))
        try log.sync()
        try log.append(Self.entries(4...9, term: 1))
        fileSystem.crash()
        let reopened = try Self.open(fileSystem)
        let last = try reopened.lastIndex()
        #expect(last >= LogIndex(3) && last <= LogIndex(9))
        #expect(try reopened.entries(from: LogIndex(1), to: last.next, maxBytes: 1 << 20) == Self.entries(1...last.rawValue, term: 1))
    }

    @Test func snapshotInstallRestartsTheLogAfterIt() throws {
        let fileSystem = SimulatedFileSystem(seed: 4)
        let log = try Self.open(fileSystem)
        try log.append(Self.entries(1...3, term: 1))
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: LogIndex(10), term: Term(4), configuration: Configuration(voters: [NodeID(2)])), data: [9, 9])
        try log.install(snapshot)
        #expect(try log.firstIndex() == LogIndex(11))
        #expect(try log.lastIndex() == LogIndex(10))
        #expect(try log.term(at: LogIndex(10)) == Term(4))
        #expect(throws: RaftStorageError.compacted) { try log.term(at: LogIndex(9)) }
        try log.append(Self.entries(11...12, term: 4))
        try log.sync()
        fileSystem.crash()
        let reopened = try Self.open(fileSystem)
        #expect(try reopened.snapshot() == snapshot)
        #expect(try reopened.entries(from: LogIndex(11), to: LogIndex(13), maxBytes: 1 << 20) == Self.entries(11...12, term: 4))
    }

    /// A log that defers its syncs (`defersSyncs`, the host batches them): creation, bootstrap
    /// and a vote are written but not durable until `syncDeferredWrites`, the path of a group
    /// made durable on its own (one group in a pass, or no syncfs). After it, a power cut keeps
    /// them all, with any seed; before it, a power cut leaves each file old or whole, never torn.
    /// Fails when the directory fsyncs are left out of `syncDeferredWrites`.
    @Test(arguments: Array(1...40) as [UInt64])
    func deferredWritesAreDurableAfterTheirOwnSync(seed: UInt64) throws {
        let voters: Set<NodeID> = [NodeID(1), NodeID(2), NodeID(3)]
        for syncs in [false, true] {
            let fileSystem = SimulatedFileSystem(seed: seed &* 2 &+ (syncs ? 1 : 0))
            let log = try SegmentGroupLog(directory: "/data/topic/0", fileSystem: fileSystem, limits: .standard, clock: ManualClock(), defersSyncs: true)
            #expect(log.hasDeferredWrites, "a new log's directory entries wait")
            try log.bootstrap(Configuration(voters: voters))
            try log.save(HardState(term: Term(3), vote: NodeID(2), commit: .zero))
            #expect(log.hasDeferredWrites)
            if syncs {
                try log.syncDeferredWrites()
                #expect(!log.hasDeferredWrites)
            }
            fileSystem.crash()
            let reopened = try SegmentGroupLog(directory: "/data/topic/0", fileSystem: fileSystem, limits: .standard, clock: ManualClock())
            let (hard, configuration) = try reopened.initialState()
            if syncs {
                #expect(configuration.voters == voters, "seed \(seed): the bootstrap is durable")
                #expect(hard.term == Term(3) && hard.vote == NodeID(2), "seed \(seed): the vote is durable")
            } else {
                #expect(configuration.voters.isEmpty || configuration.voters == voters)
                #expect(hard.term == .zero || (hard.term == Term(3) && hard.vote == NodeID(2)))
            }
        }
    }
}
