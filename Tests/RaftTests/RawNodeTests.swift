import MOMCore
import Testing
@testable import Raft

@Suite struct RawNodeTests {
    /// A one-voter node over fresh storage, with the Ready loop an application would run.
    private final class Harness {
        let storage: MemoryStorage
        let node: RawNode
        var applied: [Entry] = []

        init(voters: Set<NodeID> = [NodeID(1)], config: (inout RaftConfig) -> Void = { _ in }) throws {
            let snapshot = Snapshot(metadata: SnapshotMetadata(index: LogIndex(1), term: Term(1), configuration: Configuration(voters: voters)))
            storage = MemoryStorage(snapshot: snapshot)
            var raftConfig = RaftConfig(id: NodeID(1))
            config(&raftConfig)
            node = try RawNode(config: raftConfig, storage: storage, random: SeededRandom(seed: 7))
        }

        @discardableResult
        func handle() throws -> Ready {
            let ready = node.ready()
            if let snapshot = ready.snapshot { try storage.applySnapshot(snapshot) }
            try storage.append(ready.entries)
            if let hardState = ready.hardState { storage.setHardState(hardState) }
            applied += ready.committedEntries
            node.advance(ready)
            return ready
        }

        func settle() throws {
            var rounds = 0
            while node.hasReady() {
                try handle()
                rounds += 1
                precondition(rounds < 100, "no quiescence")
            }
        }
    }

    @Test func readyAndAdvanceAlternate() throws {
        let harness = try Harness()
        try harness.node.campaign()
        #expect(harness.node.hasReady())
        let ready = harness.node.ready()
        #expect(!harness.node.hasReady(), "nothing more is handed out until advance")
        #expect(ready.mustSync, "the new term and vote must be durable before anything is sent")
        #expect(ready.softState == SoftState(leader: NodeID(1), role: .leader))
        #expect(ready.entries.map(\.index) == [LogIndex(2)])
        #expect(ready.committedEntries.isEmpty, "nothing is applied before it is durable here")
        try harness.storage.append(ready.entries)
        harness.storage.setHardState(ready.hardState!)
        harness.node.advance(ready)
        let next = try harness.handle()
        #expect(next.committedEntries.map(\.index) == [LogIndex(2)])
        #expect(next.hardState?.commit == LogIndex(2))
        #expect(!next.mustSync, "a commit index alone need not be synced")
    }

    @Test func proposalsFlowToCommittedEntries() throws {
        let harness = try Harness()
        try harness.node.campaign()
        try harness.settle()
        try harness.node.propose(Array("a".utf8))
        try harness.node.propose(Array("b".utf8))
        try harness.settle()
        #expect(harness.applied.map { String(decoding: $0.data, as: UTF8.self) } == ["", "a", "b"])
        #expect(harness.node.status.applied == LogIndex(4))
        #expect(harness.node.status.progress[NodeID(1)]?.match == LogIndex(4))
    }

    @Test func batchedProposalsAreAllOrNothing() throws {
        let harness = try Harness { $0.uncommittedBytesMax = 10 }
        try harness.node.campaign()
        try harness.settle()
        try harness.node.propose(contentsOf: [[1], [2], [3]])
        #expect(throws: RaftError.uncommittedLimit) { try harness.node.propose(contentsOf: [[1, 2, 3, 4], [5, 6, 7, 8]]) }
        let ready = try harness.handle()
        #expect(ready.entries.map(\.data) == [[1], [2], [3]])
    }

    @Test func followersRefuseProposalsAndNameTheLeader() throws {
        let harness = try Harness(voters: [NodeID(1), NodeID(2), NodeID(3)])
        #expect(throws: RaftError.notLeader(leader: nil)) { try harness.node.propose([1]) }
        try harness.node.step(Message(kind: .heartbeat, from: NodeID(2), to: NodeID(1), term: Term(5), commit: LogIndex(1)))
        #expect(throws: RaftError.notLeader(leader: NodeID(2))) { try harness.node.propose([1]) }
        #expect(throws: RaftError.notLeader(leader: NodeID(2))) { try harness.node.proposeConfigChange(.addLearner(NodeID(4))) }
        #expect(harness.node.status.progress.isEmpty, "only a leader reports progress")
    }

    @Test func stepRejectsMisaddressedAndMalformedMessages() throws {
        let harness = try Harness(voters: [NodeID(1), NodeID(2)])
        #expect(throws: RaftError.wrongRecipient(NodeID(9))) {
            try harness.node.step(Message(kind: .heartbeat, from: NodeID(2), to: NodeID(9), term: Term(2)))
        }
        #expect(throws: RaftError.self) {
            try harness.node.step(Message(kind: .append, from: NodeID(2), to: NodeID(1), term: .zero))
        }
        #expect(throws: RaftError.self) {
            try harness.node.step(Message(kind: .vote, from: NodeID(1), to: NodeID(1), term: Term(3)))
        }
        #expect(throws: RaftError.unknownPeer(NodeID(7))) {
            try harness.node.step(Message(kind: .appendResponse, from: NodeID(7), to: NodeID(1), term: Term(1)))
        }
    }

    @Test func uncommittedBytesAreBounded() throws {
        let harness = try Harness { $0.uncommittedBytesMax = 10 }
        try harness.node.campaign()
        try harness.settle()
        try harness.node.propose(Array(repeating: 1, count: 8))
        #expect(throws: RaftError.uncommittedLimit) { try harness.node.propose(Array(repeating: 1, count: 8)) }
        try harness.settle()
        try harness.node.propose(Array(repeating: 1, count: 8))  // committed and applied: room again
    }

    @Test func configChangesWaitForTheNoOpAndForEachOther() throws {
        let harness = try Harness()
        try harness.node.campaign()
        #expect(throws: RaftError.configChangePending) { try harness.node.proposeConfigChange(.addLearner(NodeID(2))) }
        try harness.settle()
        try harness.node.proposeConfigChange(.addLearner(NodeID(2)))
        #expect(throws: RaftError.configChangePending) { try harness.node.proposeConfigChange(.addVoter(NodeID(3))) }
        try harness.settle()
        #expect(harness.node.status.configuration == Configuration(voters: [NodeID(1)], learners: [NodeID(2)]))
        try harness.node.proposeConfigChange(.addVoter(NodeID(3)))
    }

    @Test func restartResumesFromStorageWithoutReapplying() throws {
        let harness = try Harness()
        try harness.node.campaign()
        try harness.settle()
        try harness.node.propose(Array("a".utf8))
        try harness.settle()
        var config = RaftConfig(id: NodeID(1))
        config.applied = LogIndex(3)
        let restarted = try RawNode(config: config, storage: harness.storage, random: SeededRandom(seed: 1))
        let status = restarted.status
        #expect(status.hardState == HardState(term: Term(2), vote: NodeID(1), commit: LogIndex(3)))
        #expect(status.softState.role == .follower)
        #expect(status.applied == LogIndex(3))
        #expect(!restarted.hasReady(), "everything up to applied was applied before the restart")
    }

    @Test func singleVoterAnswersReadIndexAtOnce() throws {
        let harness = try Harness()
        try harness.node.campaign()
        try harness.settle()
        try harness.node.readIndex(context: Array("r".utf8))
        let ready = try harness.handle()
        #expect(ready.readStates == [ReadState(index: LogIndex(2), context: Array("r".utf8))])
    }

    @Test func electionTimeoutIsRandomizedWithinBounds() throws {
        var timeouts: Set<Int> = []
        for seed in UInt64(1)...20 {
            let storage = MemoryStorage(snapshot: Snapshot(metadata: SnapshotMetadata(index: LogIndex(1), term: Term(1), configuration: Configuration(voters: [NodeID(1), NodeID(2)]))))
            let node = try RawNode(config: RaftConfig(id: NodeID(1)), storage: storage, random: SeededRandom(seed: seed))
            var ticks = 0
            while node.basicStatus.role == .follower && ticks < 100 {
                node.tick()
                ticks += 1
            }
            #expect((10..<20).contains(ticks), "seed \(seed): campaigned after \(ticks) ticks")
            timeouts.insert(ticks)
        }
        #expect(timeouts.count > 3, "timeouts should vary with the seed")
    }

    /// A snapshot installed while a Ready's committed entries are being applied already
    /// includes their config changes: replaying them on top would corrupt the configuration.
    @Test func olderConfigChangesDoNotOverrideANewerSnapshot() throws {
        let harness = try Harness(voters: [NodeID(1), NodeID(2), NodeID(3)])
        let node = harness.node
        let entries = [Entry(term: Term(2), index: LogIndex(2)),
                       Entry(term: Term(2), index: LogIndex(3), kind: .configChange, data: ConfigChange.addLearner(NodeID(4)).encoded())]
        try node.step(Message(kind: .append, from: NodeID(2), to: NodeID(1), term: Term(2), logTerm: Term(1),
                              index: LogIndex(1), entries: entries, commit: LogIndex(3)))
        try harness.handle()  // persists the entries
        let applying = node.ready()
        #expect(applying.committedEntries.map(\.index) == [LogIndex(2), LogIndex(3)])
        let later = Snapshot(metadata: SnapshotMetadata(index: LogIndex(10), term: Term(2),
                                                        configuration: Configuration(voters: [NodeID(1), NodeID(2), NodeID(3)])))
        try node.step(Message(kind: .snapshot, from: NodeID(2), to: NodeID(1), term: Term(2), snapshot: later))
        node.advance(applying)
        #expect(node.status.configuration == Configuration(voters: [NodeID(1), NodeID(2), NodeID(3)]))
        let installing = try harness.handle()
        #expect(installing.snapshot == later)
        #expect(node.status.applied == LogIndex(10))
        #expect(node.status.configuration.learners.isEmpty)
    }

    /// Asynchronous storage writes: a follower's entries, committed by the leader, are applied
    /// only once this node's own sync of them finished, and a leader counts itself only then.
    @Test func writtenButUnsyncedEntriesAreNeitherAppliedNorCounted() throws {
        let harness = try Harness(voters: [NodeID(1), NodeID(2), NodeID(3)])
        let node = harness.node
        let entries = [Entry(term: Term(2), index: LogIndex(2), data: [1]), Entry(term: Term(2), index: LogIndex(3), data: [2])]
        try node.step(Message(kind: .append, from: NodeID(2), to: NodeID(1), term: Term(2), logTerm: Term(1),
                              index: LogIndex(1), entries: entries, commit: LogIndex(3)))
        let writing = node.ready()
        try harness.storage.append(writing.entries)
        if let hardState = writing.hardState { harness.storage.setHardState(hardState) }
        node.advance(writing, entriesDurable: false)
        if node.hasReady() {
            #expect(node.ready().committedEntries.isEmpty, "committed entries applied before this node synced them")
        } else {
            #expect(!node.hasReady())
        }
        #expect(!node.acknowledgeDurable(upTo: LogIndex(3), term: Term(1)), "a sync of other entries than those now held counts for nothing")
        #expect(node.acknowledgeDurable(upTo: LogIndex(3), term: Term(2)))
        var applied: [LogIndex] = []
        while node.hasReady() {
            let ready = node.ready()
            applied += ready.committedEntries.map(\.index)
            node.advance(ready)
        }
        #expect(applied == [LogIndex(2), LogIndex(3)], "applied once synced")
    }

    @Test func aLeaderCountsItselfOnlyForSyncedEntries() throws {
        let harness = try Harness()
        try harness.node.campaign()
        let node = harness.node
        let electing = node.ready()
        try harness.storage.append(electing.entries)
        harness.storage.setHardState(electing.hardState!)
        node.advance(electing, entriesDurable: false)
        #expect(node.status.hardState.commit == LogIndex(1), "the lone voter's entry is not committed before its sync")
        #expect(node.acknowledgeDurable(upTo: LogIndex(2), term: Term(2)))
        #expect(node.status.hardState.commit == LogIndex(2))
    }
}
