import MOMCore
import Raft
import SystemIO
import Testing
@testable import Replication

/// Acked entries, recorded from the hosts' loop threads.
final class AckedEntries: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var entries: [LogIndex: [UInt8]] = [:]

    func add(_ index: LogIndex, _ payload: [UInt8]) { lock.withLock { entries[index] = payload } }
    var count: Int { lock.withLock { entries.count } }
    var all: [LogIndex: [UInt8]] { lock.withLock { entries } }
}

/// The power switch of a simulated cluster: once cut, no sync of any node succeeds any more, so
/// what was unsynced at that instant stays unsynced while the hosts are stopped one by one.
final class PowerSwitch: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var isCut = false

    func cut() { lock.withLock { isCut = true } }
    var off: Bool { lock.withLock { isCut } }
}

/// A node's whole-file-system sync, dead once the power is cut.
final class PoweredFileSystemSync: FileSystemSync, @unchecked Sendable {
    let inner: SimulatedFileSystemSync
    let power: PowerSwitch

    init(_ fileSystem: SimulatedFileSystem, power: PowerSwitch) {
        inner = SimulatedFileSystemSync(fileSystem)
        self.power = power
    }

    func sync() throws(Errno) {
        if power.off { throw .ioError }
        try inner.sync()
    }

    func covers(_ path: String) -> Bool { true }
}

/// Asynchronous storage writes under a power cut of every node: three hosts on simulated file
/// systems whose syncs run at random loop passes (`SteppedSync`), proposals in flight, then all
/// three stop and lose every unsynced write. Every acked entry must be on a majority of the
/// disks, and every node must start again on what is left.
@Suite struct AsyncPowerCutTests {
    let group = GroupID(1)
    let ids = [NodeID(1), NodeID(2), NodeID(3)]

    func startHost(_ id: NodeID, fileSystem: SimulatedFileSystem, power: PowerSwitch, links: LocalLinks, seed: UInt64) async throws -> ReplicationHost {
        var settings = ReplicationHost.Settings()
        settings.tickMilliseconds = 10
        settings.proposalTimeoutMilliseconds = 2_000
        settings.syncWorkers = 0
        settings.fileSystemSync = PoweredFileSystemSync(fileSystem, power: power)
        settings.asyncStorageWrites = true
        settings.steppedSyncSeed = seed &* 31 &+ id.rawValue
        // Even seeds: `--storage-writes adaptive`, where a small pass with no sync in flight
        // syncs on the loop thread; odd seeds hand every sync off.
        settings.inlineSyncEntriesMax = seed % 2 == 0 ? 4 : 0
        let host = ReplicationHost(nodeID: id, link: links.link(for: id), clock: SystemClock(), randomSeed: seed &+ id.rawValue, settings: settings)
        links.register(host)
        host.start()
        // As momd creates a partition's log: its directories and files become durable with the
        // host's first batched sync (DeferredDurability), not with a later fdatasync of a segment,
        // which on this strict file system would never make the parent directories durable.
        let log = try SegmentGroupLog(directory: "/data/g1", fileSystem: fileSystem, limits: .standard, clock: SystemClock(), defersSyncs: true)
        let added = Outcome<Bool>()
        host.addGroup(group, log: log, stateMachine: RecordingStateMachine(), bootstrap: Configuration(voters: Set(ids))) {
            added.set((try? $0.get()) != nil)
        }
        #expect(await added.wait() == true)
        return host
    }

    @Test(arguments: Array(1...32) as [UInt64])
    func ackedEntriesSurviveAPowerCutOfEveryNode(seed: UInt64) async throws {
        let links = LocalLinks()
        let fileSystems = ids.map { SimulatedFileSystem(seed: seed &* 10 &+ $0.rawValue) }
        let power = PowerSwitch()
        var hosts: [ReplicationHost] = []
        for (id, fileSystem) in zip(ids, fileSystems) {
            hosts.append(try await startHost(id, fileSystem: fileSystem, power: power, links: links, seed: seed))
        }
        let group = self.group
        #expect(await eventually { hosts.contains { $0.status(of: group)?.role == .leader } })
        var leader = try #require(hosts.first { $0.status(of: group)?.role == .leader })
        let acked = AckedEntries()
        var random = SeededRandom(seed: seed)
        // Proposals keep flowing until the cut (at least `cutAfter`, and until one was acked,
        // at most 50,000), so it lands among writes, syncs and acks. They go to whichever host
        // leads now: with all 32 seeds' clusters on two vCPUs, a starved loop misses heartbeats
        // and leadership moves, and a fixed leader's proposals would all fail.
        let cutAfter = 100 + Int(random.uniform(below: 200))
        for k in 0..<50_000 where k < cutAfter || acked.count == 0 {
            let payload = Array("seed \(seed) entry \(k)".utf8)
            leader = hosts.first { $0.status(of: group)?.role == .leader } ?? leader
            leader.propose(group, entries: [payload]) { result in
                if case .success(let range) = result { acked.add(range.lowerBound, payload) }
            }
            try await Task.sleep(nanoseconds: random.uniform(below: 200_000))
        }
        power.cut()
        #expect(acked.count > 0, "some entries were acked before the cut")
        for host in hosts { host.stop() }
        for fileSystem in fileSystems { fileSystem.crash() }

        let survivors = try fileSystems.map {
            try SegmentGroupLog(directory: "/data/g1", fileSystem: $0, limits: .standard, clock: SystemClock())
        }
        for (index, payload) in acked.all.sorted(by: { $0.key < $1.key }) {
            let holders = survivors.filter { log in
                (try? log.entries(from: index, to: index.next, maxBytes: 1 << 20).first?.data) == payload
            }.count
            #expect(holders >= 2, "seed \(seed): acked entry \(index) is on \(holders) of 3 disks after the power cut")
        }
        for (id, log) in zip(ids, survivors) {
            let node = try RawNode(config: RaftConfig(id: id), storage: log, random: SeededRandom(seed: seed))
            #expect(node.status.hardState.commit <= node.status.lastIndex)
        }
    }
}
