import MOMCore
import Raft
import SystemIO
import Testing
@testable import Replication

/// Counts whole-file-system syncs; the simulated file system is single-threaded, so this runs
/// on the host's loop thread only (syncWorkers 0).
final class CountingFileSystemSync: FileSystemSync, @unchecked Sendable {
    let inner: SimulatedFileSystemSync
    private let lock = ConditionMutex()
    private var count = 0
    init(_ fileSystem: SimulatedFileSystem) { inner = SimulatedFileSystemSync(fileSystem) }
    func sync() throws(Errno) {
        lock.withLock { count += 1 }
        try inner.sync()
    }
    func covers(_ path: String) -> Bool { inner.covers(path) }
    var syncs: Int { lock.withLock { count } }
}

/// Group commit with one whole-file-system sync (`Settings.fileSystemSync`, momd's
/// `--group-commit syncfs`) over segment logs on the simulated file system.
@Suite struct FileSystemGroupCommitTests {
    let node = NodeID(1)
    let groups = [GroupID(1), GroupID(2), GroupID(3)]

    func startHost(_ fileSystem: SimulatedFileSystem, sync: CountingFileSystemSync) async throws -> ReplicationHost {
        try await startSingleNodeHost(node, groups: groups, fileSystem: fileSystem, fileSystemSync: sync)
    }

    /// Proposals to three groups in one loop pass are acked after one syncfs and no fdatasync
    /// of a segment (an armed fdatasync fault stays unused), and they survive a power cut.
    @Test func oneSyncCoversEveryDirtyLogOfAPass() async throws {
        let fileSystem = SimulatedFileSystem(seed: 3)
        let sync = CountingFileSystemSync(fileSystem)
        let box = FileSystemBox(fileSystem)
        let host = try await startHost(fileSystem, sync: sync)
        let before = Outcome<Int>()
        let results = groups.map { _ in Outcome<Result<ClosedRange<LogIndex>, ReplicationError>>() }
        let groups = self.groups
        let armed = host.onLoop { host in
            before.set(sync.syncs)
            box.fileSystem.failNext(.dataSync, with: .ioError)
            for (group, result) in zip(groups, results) {
                host.propose(group, entries: [Array("record of \(group)".utf8)]) { result.set($0) }
            }
        }
        #expect(armed)
        var acked: [LogIndex] = []
        for result in results {
            let outcome = try #require(await result.wait())
            guard case .success(let range) = outcome else { Issue.record("not acked: \(outcome)"); continue }
            acked.append(range.upperBound)
        }
        let syncsBefore = try #require(await before.wait())
        #expect(sync.syncs == syncsBefore + 1, "one file-system sync for the pass, not \(sync.syncs - syncsBefore)")
        host.stop()
        // The fdatasync fault was never consumed: no segment was fdatasync'd for these acks.
        #expect(throws: Errno.ioError) { try fileSystem.createFile("/probe").dataSync() }
        fileSystem.crash()
        for (group, index) in zip(groups, acked) {
            let log = try SegmentGroupLog(directory: "/data/g\(group.rawValue)", fileSystem: fileSystem, limits: .standard, clock: SystemClock())
            let entries = try log.entries(from: index, to: index.next, maxBytes: 1 << 20)
            #expect(entries.first?.data == Array("record of \(group)".utf8), "\(group) lost its acked record in the crash")
        }
    }

    /// A failed syncfs fails every proposal of its pass (none is acked) and stops those groups.
    @Test func aFailedFileSystemSyncFailsEveryGroupOfThePass() async throws {
        let fileSystem = SimulatedFileSystem(seed: 4)
        let sync = CountingFileSystemSync(fileSystem)
        let box = FileSystemBox(fileSystem)
        let host = try await startHost(fileSystem, sync: sync)
        defer { host.stop() }
        let results = groups.map { _ in Outcome<Result<ClosedRange<LogIndex>, ReplicationError>>() }
        let groups = self.groups
        let armed = host.onLoop { host in
            box.fileSystem.failNext(.syncFileSystem, with: .ioError)
            for (group, result) in zip(groups, results) {
                host.propose(group, entries: [[7]]) { result.set($0) }
            }
        }
        #expect(armed)
        for result in results {
            switch try #require(await result.wait()) {
            case .success(let range): Issue.record("acknowledged \(range) although the sync failed")
            case .failure(let error):
                if case .storageFailed = error {} else { Issue.record("expected storageFailed, got \(error)") }
            }
        }
        for group in groups {
            #expect(await eventually { host.status(of: group) == nil }, "\(group) stops after its disk failed")
        }
    }
}
