import MOMCore
import Raft
@testable import Simulation
import Testing

/// The fakes themselves: the disk loses exactly what was not synced, the network does what its
/// fault rates say.
@Suite struct SimulatedPartsTests {
    func entry(_ index: UInt64, _ term: UInt64) -> Entry { Entry(term: Term(term), index: LogIndex(index), data: [UInt8(index)]) }
    let bootstrap = Snapshot(metadata: SnapshotMetadata(index: LogIndex(1), term: Term(1), configuration: Configuration(voters: [NodeID(1)])))

    @Test func crashLosesUnsyncedWritesOnly() throws {
        let storage = SimulatedStorage(image: DiskImage(snapshot: bootstrap))
        storage.write(snapshot: nil, entries: [entry(2, 1), entry(3, 1)], hardState: HardState(term: Term(1), vote: NodeID(1), commit: LogIndex(1)))
        storage.sync()
        storage.write(snapshot: nil, entries: [entry(4, 2)], hardState: HardState(term: Term(2), vote: nil, commit: LogIndex(3)))
        #expect(try storage.lastIndex() == LogIndex(4))
        #expect(storage.hasUnsyncedWrites)
        storage.crash()
        #expect(try storage.lastIndex() == LogIndex(3))
        #expect(try storage.initialState().0 == HardState(term: Term(1), vote: NodeID(1), commit: LogIndex(1)))
    }

    @Test func appendReplacesConflictingSuffix() throws {
        let storage = SimulatedStorage(image: DiskImage(snapshot: bootstrap))
        storage.write(snapshot: nil, entries: [entry(2, 1), entry(3, 1), entry(4, 1)], hardState: nil)
        storage.write(snapshot: nil, entries: [entry(3, 2)], hardState: nil)
        #expect(try storage.lastIndex() == LogIndex(3))
        #expect(try storage.term(at: LogIndex(3)) == Term(2))
        #expect(try storage.entries(from: LogIndex(2), to: LogIndex(4), maxBytes: 1).count == 1)
        #expect(throws: RaftStorageError.unavailable) { try storage.term(at: LogIndex(9)) }
    }

    @Test func compactionReachesBothImagesAndRaisesCommit() throws {
        let storage = SimulatedStorage(image: DiskImage(snapshot: bootstrap))
        storage.write(snapshot: nil, entries: [entry(2, 1), entry(3, 1)], hardState: HardState(term: Term(1), commit: LogIndex(1)))
        storage.sync()
        storage.compact(to: Snapshot(metadata: SnapshotMetadata(index: LogIndex(3), term: Term(1)), data: [1]))
        storage.crash()
        #expect(try storage.firstIndex() == LogIndex(4))
        #expect(try storage.initialState().0.commit == LogIndex(3))
        #expect(throws: RaftStorageError.compacted) { try storage.entries(from: LogIndex(2), to: LogIndex(3), maxBytes: 100) }
    }

    func message(_ from: UInt64, _ to: UInt64) -> Message { Message(kind: .heartbeat, from: NodeID(from), to: NodeID(to), term: Term(1)) }

    @Test func networkDelaysWithinBoundsAndCutsPartitions() {
        var random = SeededRandom(seed: 1)
        var network = SimulatedNetwork(nodeCount: 3, faults: NetworkFaults(delayTicksMin: 2, delayTicksMax: 4), messagesInFlightMax: 100)
        for _ in 0..<10 { network.send(message(1, 2), from: 0, to: 1, now: 0, random: &random) }
        #expect(network.takeDue(now: 1) { Int($0.rawValue) - 1 }.isEmpty)
        var delivered = 0
        for now in 2...4 as ClosedRange<UInt64> { delivered += network.takeDue(now: now) { Int($0.rawValue) - 1 }.count }
        #expect(delivered == 10)
        network.send(message(1, 3), from: 0, to: 2, now: 10, random: &random)
        network.partition(sides: [0, 0, 1])
        network.send(message(1, 3), from: 0, to: 2, now: 10, random: &random)
        #expect(network.takeDue(now: 20) { Int($0.rawValue) - 1 }.isEmpty)  // cut in flight and at send
        #expect(network.statistics.cut == 2)
        network.heal()
        network.send(message(1, 3), from: 0, to: 2, now: 20, random: &random)
        #expect(network.takeDue(now: 30) { Int($0.rawValue) - 1 }.count == 1)
    }

    @Test func networkDropsDuplicatesAndStaysBounded() {
        var random = SeededRandom(seed: 2)
        var network = SimulatedNetwork(nodeCount: 2, faults: NetworkFaults(dropPercent: 100), messagesInFlightMax: 4)
        network.send(message(1, 2), from: 0, to: 1, now: 0, random: &random)
        #expect(network.statistics.dropped == 1)
        network.faults = NetworkFaults(duplicatePercent: 100)
        network.send(message(1, 2), from: 0, to: 1, now: 0, random: &random)
        #expect(network.takeDue(now: 1) { Int($0.rawValue) - 1 }.count == 2)
        for _ in 0..<10 { network.send(message(1, 2), from: 0, to: 1, now: 1, random: &random) }
        #expect(network.inFlight.count == 4)
        #expect(network.statistics.overflowed > 0)
    }

    @Test func clusterReplicatesWithZeroDelay() throws {
        let cluster = try SimulatedCluster(nodeCount: 3, seed: 5, network: NetworkFaults(delayTicksMin: 0, delayTicksMax: 0))
        for _ in 0..<200 where cluster.leader == nil {
            try cluster.tick()
            try cluster.settle()
        }
        #expect(cluster.leader != nil)
        for id in 1...10 as ClosedRange<UInt64> { #expect(cluster.propose(ClientProposal(id: id).encoded(sizeBytes: 64))) }
        try cluster.settle()
        let index = try #require(cluster.checker.committedIndex(ofProposal: 10))
        for id in cluster.ids { #expect(cluster.appliedIndex(of: id) >= index) }
        #expect(cluster.firstViolation == nil)
    }
}
