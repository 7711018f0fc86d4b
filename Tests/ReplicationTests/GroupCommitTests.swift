import Glibc
import MOMCore
import Raft
import SystemIO
import Testing
@testable import Replication

/// What each replica's log has appended and made durable, shared by every node of a test.
final class DurabilityLedger: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var appended: [NodeID: [GroupID: LogIndex]] = [:]
    private var synced: [NodeID: [GroupID: LogIndex]] = [:]
    private var violations: [String] = []

    func recordAppend(_ node: NodeID, _ group: GroupID, last: LogIndex) { lock.withLock { appended[node, default: [:]][group] = last } }
    func recordSync(_ node: NodeID, _ group: GroupID) {
        lock.withLock { synced[node, default: [:]][group] = appended[node]?[group] ?? .zero }
    }
    func synced(_ node: NodeID, _ group: GroupID) -> LogIndex { lock.withLock { synced[node]?[group] ?? .zero } }
    /// How many nodes have `index` of `group` on disk.
    func replicasHolding(_ index: LogIndex, of group: GroupID) -> Int {
        lock.withLock { synced.values.filter { ($0[group] ?? .zero) >= index }.count }
    }
    func flag(_ violation: String) { lock.withLock { violations.append(violation) } }
    var recordedViolations: [String] { lock.withLock { violations } }
}

/// A `MemoryGroupLog` that reports appends and syncs to the ledger: "durable" means synced.
final class LedgerLog: GroupLog, @unchecked Sendable {
    let inner = MemoryGroupLog()
    let node: NodeID
    let group: GroupID
    let ledger: DurabilityLedger

    init(node: NodeID, group: GroupID, ledger: DurabilityLedger) {
        self.node = node
        self.group = group
        self.ledger = ledger
    }

    func initialState() throws -> (HardState, Configuration) { try inner.initialState() }
    func entries(from: LogIndex, to: LogIndex, maxBytes: Int) throws -> [Entry] { try inner.entries(from: from, to: to, maxBytes: maxBytes) }
    func term(at index: LogIndex) throws -> Term { try inner.term(at: index) }
    func firstIndex() throws -> LogIndex { try inner.firstIndex() }
    func lastIndex() throws -> LogIndex { try inner.lastIndex() }
    func snapshot() throws -> Snapshot { try inner.snapshot() }
    func append(_ entries: [Entry]) throws {
        try inner.append(entries)
        ledger.recordAppend(node, group, last: try inner.lastIndex())
    }
    func save(_ hardState: HardState) throws { try inner.save(hardState) }
    func install(_ snapshot: Snapshot) throws { try inner.install(snapshot) }
    /// Takes a moment, like a disk, so that a message sent too early would outrun it.
    func sync() throws {
        usleep(1_000)
        ledger.recordSync(node, group)
    }
    func bootstrap(_ configuration: Configuration) throws { try inner.bootstrap(configuration) }
    func compact(before index: LogIndex, snapshot: Snapshot) throws { try inner.compact(before: index, snapshot: snapshot) }
}

/// Checks every message a node sends: an append response vouches for durability, so it must
/// never name an index the sender has not synced; a vote must follow the synced vote.
final class CheckingLink: PeerLink, @unchecked Sendable {
    let inner: any PeerLink
    let node: NodeID
    let ledger: DurabilityLedger
    init(_ inner: any PeerLink, node: NodeID, ledger: DurabilityLedger) { self.inner = inner; self.node = node; self.ledger = ledger }
    func send(to peer: NodeID, group: GroupID, payload: [UInt8]) {
        if group != HeartbeatBatch.channel, let message = try? Message.decode(payload, limits: .standard),
           message.kind == .appendResponse, !message.reject, ledger.synced(node, group) < message.index {
            ledger.flag("node \(node) acknowledged \(group) up to \(message.index) before syncing it")
        }
        inner.send(to: peer, group: group, payload: payload)
    }
}

/// Applies only what this node has synced, or flags it.
final class LedgerStateMachine: GroupStateMachine, @unchecked Sendable {
    let node: NodeID
    let ledger: DurabilityLedger
    init(node: NodeID, ledger: DurabilityLedger) { self.node = node; self.ledger = ledger }
    func apply(_ entries: [Entry], group: GroupID) {
        guard let last = entries.last else { return }
        if ledger.synced(node, group) < last.index {
            ledger.flag("node \(node) applied \(group) up to \(last.index) before syncing it")
        }
    }
    func restore(_ snapshot: Snapshot, group: GroupID) {}
    func snapshotData(group: GroupID) -> [UInt8] { [] }
}

@Suite struct GroupCommitTests {
    /// How a test host makes its writes durable: each pass syncs (momd's `--storage-writes
    /// sync`), a sync thread does (`async`), or small passes with no sync in flight sync on the
    /// loop thread and the rest on the sync thread (`adaptive`).
    enum StorageWrites: String, CaseIterable, Sendable { case sync, async, adaptive }

    /// Many groups, concurrent syncs, the leader's appends sent before its own sync: every
    /// acknowledged proposal is on disk on a majority when it is acked, and no node applies
    /// an entry it has not synced. In every storage-writes mode.
    @Test(arguments: StorageWrites.allCases)
    func nothingIsAckedBeforeAMajoritySyncedIt(writes: StorageWrites) async throws {
        let ledger = DurabilityLedger()
        let links = LocalLinks()
        let groups = (1...6).map { GroupID(UInt64($0)) }
        let voters: Set<NodeID> = [NodeID(1), NodeID(2), NodeID(3)]
        var settings = ReplicationHost.Settings()
        settings.tickMilliseconds = 10
        settings.proposalTimeoutMilliseconds = 5_000
        settings.syncWorkers = 2
        if writes != .sync {
            // A LedgerLog has no file of its own: the sync thread runs this "syncfs", and the
            // log records itself synced when the loop completes it (`markSynced(through:)`).
            settings.fileSystemSync = GatedFileSystemSync()
            settings.asyncStorageWrites = true
            settings.inlineSyncEntriesMax = writes == .adaptive ? 4 : 0
        }
        var hosts: [ReplicationHost] = []
        defer { hosts.forEach { $0.stop() } }
        for id in voters.sorted() {
            let link = CheckingLink(links.link(for: id), node: id, ledger: ledger)
            let host = ReplicationHost(nodeID: id, link: link, clock: SystemClock(), randomSeed: id.rawValue, settings: settings)
            links.register(host)
            host.start()
            hosts.append(host)
            for group in groups {
                let added = Outcome<Bool>()
                host.addGroup(group, log: LedgerLog(node: id, group: group, ledger: ledger),
                              stateMachine: LedgerStateMachine(node: id, ledger: ledger), bootstrap: Configuration(voters: voters)) {
                    added.set((try? $0.get()) != nil)
                }
                #expect(await added.wait() == true)
            }
        }
        for group in groups {
            #expect(await eventually { hosts.contains { $0.status(of: group)?.role == .leader } }, "group \(group) elects a leader")
        }
        // Proposals to every group at once, so loop passes carry several dirty groups. On a
        // machine so loaded that 10 ms ticks cannot hold a leader for the proposals' 5 s, a
        // whole wave can fail: up to three waves, until one commits something.
        var successes = 0
        for wave in 0..<3 where successes == 0 {
            let acked = Outcome<Int>()
            let counter = Counter(target: groups.count * 20) { acked.set($0) }
            for round in 0..<20 {
                for group in groups {
                    guard let leader = hosts.first(where: { $0.status(of: group)?.role == .leader }) else {
                        counter.add(0)
                        continue
                    }
                    leader.propose(group, entries: [Array("w\(wave)r\(round)".utf8), Array("w\(wave)s\(round)".utf8)]) { result in
                        if case .success(let range) = result {
                            let holders = ledger.replicasHolding(range.upperBound, of: group)
                            if holders < 2 { ledger.flag("\(group) acked \(range) with \(holders) replica(s) synced") }
                        }
                        counter.add(result.isSuccess ? 1 : 0)
                    }
                }
            }
            successes = try #require(await acked.wait())
        }
        #expect(successes > 0, "some proposals committed")
        #expect(ledger.recordedViolations.isEmpty, "\(ledger.recordedViolations.prefix(5))")
    }

    /// A failed fdatasync fails the proposal it would have made durable: the ack never
    /// precedes the sync. Runs on `SimulatedFileSystem`, so syncs stay on the loop thread.
    @Test func aFailedSyncFailsTheProposalInsteadOfAckingIt() async throws {
        let fileSystem = SimulatedFileSystem(seed: 11)
        let box = FileSystemBox(fileSystem)
        let groups = [GroupID(1), GroupID(2)]
        let host = try await startSingleNodeHost(NodeID(1), groups: groups, fileSystem: fileSystem)
        defer { host.stop() }
        let first = Outcome<Result<ClosedRange<LogIndex>, ReplicationError>>()
        host.propose(groups[0], entries: [[1]]) { first.set($0) }
        #expect(try #require(await first.wait()).isSuccess)

        // Arm the fault on the loop thread (the simulated file system is single-threaded),
        // then propose to both groups in one inbox batch: the pass that persists them syncs
        // group 1 first, and that sync fails.
        let failed = Outcome<Result<ClosedRange<LogIndex>, ReplicationError>>()
        let other = Outcome<Result<ClosedRange<LogIndex>, ReplicationError>>()
        #expect(host.onLoop { host in
            box.fileSystem.failNext(.dataSync, with: .ioError)
            host.propose(groups[0], entries: [[2]]) { failed.set($0) }
            host.propose(groups[1], entries: [[3]]) { other.set($0) }
        })
        let outcome = try #require(await failed.wait())
        switch outcome {
        case .success(let range): Issue.record("acknowledged \(range) although its fdatasync failed")
        case .failure(let error):
            if case .storageFailed = error {} else { Issue.record("expected storageFailed, got \(error)") }
        }
        #expect(try #require(await other.wait()).isSuccess, "the other group's sync succeeded: it acks")
        #expect(await eventually { host.status(of: groups[0]) == nil }, "a group whose disk failed stops here")
    }
}

/// Carries the single-threaded file system into a loop-thread closure.
final class FileSystemBox: @unchecked Sendable {
    let fileSystem: SimulatedFileSystem
    init(_ fileSystem: SimulatedFileSystem) { self.fileSystem = fileSystem }
}

/// Counts completions and reports the number of successes once all arrived.
final class Counter: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var done = 0
    private var successes = 0
    private let target: Int
    private let finished: @Sendable (Int) -> Void

    init(target: Int, finished: @escaping @Sendable (Int) -> Void) {
        self.target = target
        self.finished = finished
    }

    func add(_ success: Int) {
        let total: Int? = lock.withLock {
            done += 1
            successes += success
            return done == target ? successes : nil
        }
        if let total { finished(total) }
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
