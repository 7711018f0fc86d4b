import Glibc
import MOMCore
import Raft
import SystemIO
import Testing
@testable import Replication

/// A `GroupLog` whose appends start failing on demand (a full disk, as the chaos campaign's
/// disk-full fault makes one).
final class FailingGroupLog: GroupLog, @unchecked Sendable {
    private let inner = MemoryGroupLog()
    private let lock = ConditionMutex()
    private var failing = false

    func startFailing() { lock.withLock { failing = true } }
    private func check() throws { if lock.withLock({ failing }) { throw Errno(ENOSPC) } }

    func initialState() throws -> (HardState, Configuration) { try inner.initialState() }
    func entries(from: LogIndex, to: LogIndex, maxBytes: Int) throws -> [Entry] { try inner.entries(from: from, to: to, maxBytes: maxBytes) }
    func term(at index: LogIndex) throws -> Term { try inner.term(at: index) }
    func firstIndex() throws -> LogIndex { try inner.firstIndex() }
    func lastIndex() throws -> LogIndex { try inner.lastIndex() }
    func snapshot() throws -> Snapshot { try inner.snapshot() }
    func append(_ entries: [Entry]) throws { try check(); try inner.append(entries) }
    func save(_ hardState: HardState) throws { try check(); try inner.save(hardState) }
    func install(_ snapshot: Snapshot) throws { try check(); try inner.install(snapshot) }
    func sync() throws { try check(); try inner.sync() }
    func bootstrap(_ configuration: Configuration) throws { try inner.bootstrap(configuration) }
    func compact(before index: LogIndex, snapshot: Snapshot) throws { try inner.compact(before: index, snapshot: snapshot) }
}

@Suite struct StorageFailureTests {
    /// Found by the chaos campaign's disk-full fault: the pipeline unpublished a group whose
    /// log failed and then published its status again in the same pass, so the node kept
    /// advertising (and routing reads to) a replica it no longer hosted.
    @Test func aGroupWhoseLogFailsIsNoLongerAdvertised() async throws {
        var settings = ReplicationHost.Settings()
        settings.tickMilliseconds = 10
        let node = NodeID(1)
        let links = LocalLinks()
        let host = ReplicationHost(nodeID: node, link: links.link(for: node), clock: SystemClock(), randomSeed: 1, settings: settings)
        host.start()
        defer { host.stop() }
        let group = GroupID(5)
        let log = FailingGroupLog()
        let added = Outcome<Bool>()
        host.addGroup(group, log: log, stateMachine: RecordingStateMachine(), bootstrap: Configuration(voters: [node]), campaign: true) {
            added.set((try? $0.get()) != nil)
        }
        #expect(await added.wait() == true)
        #expect(await eventually { host.status(of: group)?.role == .leader })
        log.startFailing()
        let outcome = Outcome<Result<ClosedRange<LogIndex>, ReplicationError>>()
        host.propose(group, entries: [[1, 2, 3]]) { outcome.set($0) }
        let result = await outcome.wait()
        guard case .failure(.storageFailed)? = result else {
            Issue.record("expected storageFailed, got \(String(describing: result))")
            return
        }
        #expect(await eventually { host.status(of: group) == nil }, "the failed group is still advertised")
    }
}
