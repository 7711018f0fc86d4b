import MOMCore
import Raft
import SystemIO
import Testing
@testable import Replication

/// A whole-file-system sync a test opens and closes: while closed, every sync blocks (on the
/// host's background sync thread, never on a test's task).
final class GatedFileSystemSync: FileSystemSync, @unchecked Sendable {
    private let lock = ConditionMutex()
    private var isOpen: Bool
    private var blockedCount = 0
    private var callCount = 0

    init(open: Bool = true) { isOpen = open }

    func close() { lock.withLock { isOpen = false } }
    func open() {
        lock.withLock { isOpen = true }
        lock.broadcast()
    }

    /// Syncs waiting at the closed gate now.
    var blocked: Int { lock.withLock { blockedCount } }
    var calls: Int { lock.withLock { callCount } }

    func sync() throws(Errno) {
        lock.lock()
        callCount += 1
        blockedCount += 1
        while !isOpen { lock.wait(untilMonotonicNanoseconds: SystemClock().monotonicNanoseconds() + 10_000_000) }
        blockedCount -= 1
        lock.unlock()
    }

    func covers(_ path: String) -> Bool { true }
}

/// Asynchronous storage writes (`Settings.asyncStorageWrites`): the loop goes on while a
/// background thread syncs, but nothing that depends on durability happens before that sync.
@Suite struct AsyncStorageWritesTests {
    let group = GroupID(1)

    func startCluster(nodes: Int, gates: [NodeID: GatedFileSystemSync], links: LocalLinks) async throws -> [ReplicationHostTests.Node] {
        try await ReplicationHostTests.startCluster(nodes: nodes, groups: [group], links: links) { id, settings in
            settings.fileSystemSync = gates[id]
            settings.asyncStorageWrites = true
            // A proposal held at a closed gate must not reach its deadline on a loaded machine
            // (the whole suite runs in parallel): its answer is what the tests look at.
            settings.proposalTimeoutMilliseconds = 120_000
        }
    }

    /// Starts `nodes` hosts, elects a leader of the group and commits one entry, all gates open.
    func warmCluster(nodes: Int) async throws -> (cluster: [ReplicationHostTests.Node], gates: [NodeID: GatedFileSystemSync], leader: ReplicationHostTests.Node) {
        let ids = (1...nodes).map { NodeID(UInt64($0)) }
        let gates = Dictionary(uniqueKeysWithValues: ids.map { ($0, GatedFileSystemSync()) })
        let cluster = try await startCluster(nodes: nodes, gates: gates, links: LocalLinks())
        #expect(await eventually { ReplicationHostTests.leader(of: group, in: cluster) != nil })
        let leader = try #require(ReplicationHostTests.leader(of: group, in: cluster))
        let warm = try #require(await ReplicationHostTests.propose([1], to: group, on: leader))
        #expect((try? warm.get()) != nil, "the first entry commits with every gate open: \(warm)")
        return (cluster, gates, leader)
    }

    /// A lone voter acks only after its own sync: with the gate closed the entry is written and
    /// its sync requested, but the proposal stays unanswered until the gate opens.
    @Test func aLoneVoterAcksOnlyAfterItsSyncFinished() async throws {
        let (cluster, gates, leader) = try await warmCluster(nodes: 1)
        defer { cluster.forEach { $0.host.stop() } }
        let gate = try #require(gates[leader.host.nodeID])
        gate.close()
        let outcome = Outcome<Result<ClosedRange<LogIndex>, ReplicationError>>()
        leader.host.propose(group, entries: [[2]]) { outcome.set($0) }
        #expect(await eventually { gate.blocked == 1 }, "the entry's sync reached the gate")
        try await Task.sleep(nanoseconds: 100_000_000)
        #expect(outcome.peek() == nil, "acked before the sync finished: \(String(describing: outcome.peek()))")
        #expect(leader.machines[group]!.payloads == [[1]], "applied before the sync finished")
        gate.open()
        let result = try #require(await outcome.wait())
        #expect((try? result.get()) != nil, "acked once the sync finished: \(result)")
    }

    /// Followers answer an append only after their own sync: with both followers' gates closed
    /// the leader (whose sync is free) is alone and cannot commit; one follower's sync finishing
    /// makes the majority.
    @Test func followersVouchForEntriesOnlyAfterTheirSync() async throws {
        let (cluster, gates, leader) = try await warmCluster(nodes: 3)
        defer { cluster.forEach { $0.host.stop() } }
        let followers = cluster.filter { $0.host.nodeID != leader.host.nodeID }.map { gates[$0.host.nodeID]! }
        for gate in followers { gate.close() }
        let outcome = Outcome<Result<ClosedRange<LogIndex>, ReplicationError>>()
        leader.host.propose(group, entries: [[2]]) { outcome.set($0) }
        #expect(await eventually { followers.allSatisfy { $0.blocked == 1 } }, "both followers wrote the entry and wait for its sync")
        try await Task.sleep(nanoseconds: 100_000_000)
        #expect(outcome.peek() == nil, "committed with no follower's sync finished: \(String(describing: outcome.peek()))")
        followers[0].open()
        let result = try #require(await outcome.wait())
        #expect((try? result.get()) != nil, "one follower's finished sync makes the majority: \(result)")
        followers[1].open()
    }

    /// Two followers' finished syncs commit an entry while the leader's own sync still runs,
    /// but the leader applies it, and so acks it, only once its own disk has it too.
    @Test func twoFollowersCommitButTheLeaderAppliesOnlyAfterItsOwnSync() async throws {
        let (cluster, gates, leader) = try await warmCluster(nodes: 3)
        defer { cluster.forEach { $0.host.stop() } }
        let leaderGate = try #require(gates[leader.host.nodeID])
        leaderGate.close()
        let outcome = Outcome<Result<ClosedRange<LogIndex>, ReplicationError>>()
        let before = try #require(leader.host.status(of: group)).commit
        leader.host.propose(group, entries: [[2]]) { outcome.set($0) }
        #expect(await eventually { (leader.host.status(of: group)?.commit ?? before) > before }, "the followers' syncs commit it")
        #expect(leaderGate.blocked == 1, "the leader's own sync is still waiting")
        #expect(outcome.peek() == nil, "acked before the leader's own disk had it")
        leaderGate.open()
        let result = try #require(await outcome.wait())
        #expect((try? result.get()) != nil, "acked once the leader synced too: \(result)")
    }

    /// `inlineSyncEntriesMax`: one small proposal at a time is synced on each node's loop
    /// thread (nothing in flight, one log, one entry); a batch above the bound is handed to the
    /// sync thread. Either way the entry commits.
    @Test func smallPassesSyncInlineAndBatchesAreHandedOff() async throws {
        let cluster = try await ReplicationHostTests.startCluster(nodes: 3, groups: [group], links: LocalLinks()) { _, settings in
            settings.fileSystemSync = GatedFileSystemSync()
            settings.asyncStorageWrites = true
            settings.inlineSyncEntriesMax = 4
            settings.proposalTimeoutMilliseconds = 120_000
            // Slower ticks than the suite's 10 ms: a change of leader on a loaded machine would
            // fail a proposal and bring a new leader's own entry; this test counts syncs.
            settings.tickMilliseconds = 50
        }
        defer { cluster.forEach { $0.host.stop() } }
        #expect(await eventually { ReplicationHostTests.leader(of: group, in: cluster) != nil })
        let leader = try #require(ReplicationHostTests.leader(of: group, in: cluster))
        // A committed entry first: the new leader's own first entry and its sync are behind us.
        let warm = try #require(await ReplicationHostTests.propose([0xff], to: group, on: leader))
        #expect((try? warm.get()) != nil, "the first entry commits: \(warm)")
        let before = leader.host.storageSyncCounts
        for k in 0..<10 {
            let result = try #require(await ReplicationHostTests.propose([UInt8(k)], to: group, on: leader))
            #expect((try? result.get()) != nil, "proposal \(k) commits: \(result)")
        }
        let afterSmall = leader.host.storageSyncCounts
        #expect(afterSmall.inline >= before.inline + 10, "each lone entry synced on the loop: \(before) → \(afterSmall)")
        #expect(afterSmall.handedOff == before.handedOff, "no small pass handed its sync off: \(before) → \(afterSmall)")

        let batch = Outcome<Result<ClosedRange<LogIndex>, ReplicationError>>()
        leader.host.propose(group, entries: (0..<50).map { [UInt8($0)] }) { batch.set($0) }
        let result = try #require(await batch.wait())
        #expect((try? result.get()) != nil, "the batch commits: \(result)")
        let afterBatch = leader.host.storageSyncCounts
        #expect(afterBatch.handedOff > afterSmall.handedOff, "50 entries in one pass go to the sync thread: \(afterSmall) → \(afterBatch)")
    }

    /// Syncs requested while one runs share the next: three requests, two syncs.
    @Test func requestsDuringASyncShareTheNextOne() async throws {
        let gate = GatedFileSystemSync(open: false)
        let background = BackgroundSync(fileSystemSync: gate) {}
        defer { background.stop() }
        #expect(background.request() == 1)
        #expect(await eventually { gate.blocked == 1 })
        #expect(background.request() == 2)
        #expect(background.request() == 3)
        gate.open()
        #expect(await eventually { gate.calls == 2 && gate.blocked == 0 })
        var finished: [BackgroundSync.Finished] = []
        #expect(await eventually {
            finished += background.takeFinished()
            return finished.last?.throughTicket == 3
        })
        #expect(finished == [.init(throughTicket: 1, error: nil), .init(throughTicket: 3, error: nil)])
        #expect(gate.calls == 2, "one sync for tickets 2 and 3")
    }

    /// A failed background sync stops the group: the proposal is not acked.
    @Test func aFailedSyncFailsTheProposal() async throws {
        let failing = FailingFileSystemSync()
        let cluster = try await ReplicationHostTests.startCluster(nodes: 1, groups: [group], links: LocalLinks()) { _, settings in
            settings.fileSystemSync = failing
            settings.asyncStorageWrites = true
        }
        defer { cluster.forEach { $0.host.stop() } }
        let node = cluster[0]
        // The election's own entry needs a sync too, which fails: the group stops at once.
        #expect(await eventually { node.host.status(of: group) == nil }, "the group stops after its sync failed")
        let result = try #require(await ReplicationHostTests.propose([2], to: group, on: node))
        #expect((try? result.get()) == nil, "nothing is acked on a failed disk: \(result)")
    }
}

/// A whole-file-system sync that always fails, as after a writeback error.
final class FailingFileSystemSync: FileSystemSync, @unchecked Sendable {
    func sync() throws(Errno) { throw .ioError }
    func covers(_ path: String) -> Bool { true }
}

/// A file handle that counts its fdatasyncs and closes, with a chosen identity.
final class CountingFileSyncHandle: FileSyncHandle, @unchecked Sendable {
    private let lock = ConditionMutex()
    private let fileIdentity: FileIdentity
    private var syncCount = 0
    private var closeCount = 0

    init(inode: UInt64) { fileIdentity = FileIdentity(device: 1, inode: inode) }

    func identity() throws(Errno) -> FileIdentity { fileIdentity }
    func dataSync() throws(Errno) { lock.withLock { syncCount += 1 } }
    func close() { lock.withLock { closeCount += 1 } }
    var syncs: Int { lock.withLock { syncCount } }
    var closes: Int { lock.withLock { closeCount } }
}

/// Which sync the background thread runs for the requests it covers.
@Suite struct BackgroundSyncTargetTests {
    /// Requests queued behind a closed gate (a first syncfs that blocks), then released together.
    func runQueued(_ files: [(any FileSyncHandle)?]) async -> GatedFileSystemSync {
        let gate = GatedFileSystemSync(open: false)
        let background = BackgroundSync(fileSystemSync: gate) {}
        _ = background.request()
        _ = await eventually { gate.blocked == 1 }
        for file in files { _ = background.request(file: file) }
        gate.open()
        background.waitForAll()
        background.stop()
        return gate
    }

    @Test func oneFileNamedByEveryRequestIsFdatasyncedOnce() async {
        let file = CountingFileSyncHandle(inode: 7)
        let again = CountingFileSyncHandle(inode: 7)
        let gate = await runQueued([file, again])
        #expect(gate.calls == 1, "no syncfs beyond the first request's")
        #expect(file.syncs + again.syncs == 1, "two handles of one file: one fdatasync")
        #expect(file.closes == 1 && again.closes == 1, "every handle is closed once")
    }

    @Test func aRequestWithoutAFileNeedsSyncfs() async {
        let file = CountingFileSyncHandle(inode: 7)
        let gate = await runQueued([file, nil])
        #expect(gate.calls == 2, "the second sync is a syncfs")
        #expect(file.syncs == 0 && file.closes == 1)
    }

    @Test func manyFilesGetOneSyncfs() async {
        let files = (1...UInt64(BackgroundSync.filesPerSyncMax + 1)).map { CountingFileSyncHandle(inode: $0) }
        let gate = await runQueued(files)
        #expect(gate.calls == 2, "one syncfs instead of \(files.count) fdatasyncs")
        #expect(files.allSatisfy { $0.syncs == 0 && $0.closes == 1 })
    }
}
