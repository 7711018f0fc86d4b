import MOMCore
import Raft
import SystemIO
import Testing
@testable import Replication

/// A file system that counts the syncs it is asked for (fdatasync of any file, directory
/// fsync) and passes everything to a simulated one. Loop thread only, like the file system.
final class SyncCountingFileSystem: FileSystem, @unchecked Sendable {
    let inner: SimulatedFileSystem
    private let lock = ConditionMutex()
    private var dataSyncCount = 0
    private var directorySyncCount = 0

    init(_ inner: SimulatedFileSystem) { self.inner = inner }

    var dataSyncs: Int { lock.withLock { dataSyncCount } }
    var directorySyncs: Int { lock.withLock { directorySyncCount } }
    func countDataSync() { lock.withLock { dataSyncCount += 1 } }

    func openFile(_ path: String) throws(Errno) -> any StorageFile { CountedFile(try inner.openFile(path), owner: self) }
    func createFile(_ path: String) throws(Errno) -> any StorageFile { CountedFile(try inner.createFile(path), owner: self) }
    func listDirectory(_ path: String) throws(Errno) -> [String] { try inner.listDirectory(path) }
    func rename(_ source: String, to destination: String) throws(Errno) { try inner.rename(source, to: destination) }
    func removeFile(_ path: String) throws(Errno) { try inner.removeFile(path) }
    func makeDirectory(_ path: String) throws(Errno) { try inner.makeDirectory(path) }
    func syncDirectory(_ path: String) throws(Errno) {
        lock.withLock { directorySyncCount += 1 }
        try inner.syncDirectory(path)
    }
    func exists(_ path: String) -> Bool { inner.exists(path) }

    private final class CountedFile: StorageFile {
        let file: any StorageFile
        let owner: SyncCountingFileSystem
        init(_ file: any StorageFile, owner: SyncCountingFileSystem) {
            self.file = file
            self.owner = owner
        }
        func read(fromAbsoluteOffset offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
            try file.read(fromAbsoluteOffset: offset, into: buffer)
        }
        func write(toAbsoluteOffset offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws(Errno) {
            try file.write(toAbsoluteOffset: offset, bytes)
        }
        func dataSync() throws(Errno) {
            owner.countDataSync()
            try file.dataSync()
        }
        func truncate(toSize size: UInt64) throws(Errno) { try file.truncate(toSize: size) }
        func size() throws(Errno) -> UInt64 { try file.size() }
        func close() throws(Errno) { try file.close() }
    }
}

/// What left the node, each with how many whole-file-system syncs had run when it did.
final class SentMessages: PeerLink, @unchecked Sendable {
    struct Sent {
        let group: GroupID
        let message: Message?
        let syncsBefore: Int
    }

    let sync: CountingFileSystemSync
    private let lock = ConditionMutex()
    private var sent: [Sent] = []

    init(sync: CountingFileSystemSync) { self.sync = sync }

    func send(to peer: NodeID, group: GroupID, payload: [UInt8]) {
        let message = try? Message.decode(payload, limits: .standard)
        let syncs = sync.syncs
        lock.withLock { sent.append(Sent(group: group, message: group == HeartbeatBatch.channel ? nil : message, syncsBefore: syncs)) }
    }

    var all: [Sent] { lock.withLock { sent } }
}

/// New groups (and terms and votes) are made durable together, once per loop pass, before
/// anything of theirs leaves the node (DeferredDurability, docs/performance.md §21).
@Suite struct DeferredDurabilityTests {
    static let node = NodeID(1)
    static let voters = Set([NodeID(1), NodeID(2), NodeID(3)])

    /// A host on `link` whose first tick is an hour away: every step below is driven by the
    /// commands posted before it starts, which its first pass takes together.
    /// A creation's outcome, and how many whole-file-system syncs had run when it was reported.
    struct Created: Sendable {
        let succeeded: Bool
        let syncsBefore: Int
    }

    static func makeHost(link: SentMessages, asyncWrites: Bool) -> ReplicationHost {
        var settings = ReplicationHost.Settings()
        settings.tickMilliseconds = 3_600_000
        settings.syncWorkers = 0
        settings.fileSystemSync = link.sync
        settings.asyncStorageWrites = asyncWrites
        settings.steppedSyncSeed = asyncWrites ? 5 : nil
        return ReplicationHost(nodeID: node, link: link, clock: SystemClock(), randomSeed: 1, settings: settings)
    }

    /// Posts `count` new groups to a host that has not started: even ids campaign (the
    /// preferred leader: pre-vote requests go out), odd ids got a vote request from node 2
    /// before they existed here (EarlyMessages: granting it saves term 1 and the vote).
    /// Returns each group's creation outcome; a log that could not be opened is left out.
    static func postNewGroups(
        _ count: Int, to host: ReplicationHost, fileSystem: any FileSystem, link: SentMessages
    ) -> [(GroupID, Outcome<Created>)] {
        var outcomes: [(GroupID, Outcome<Created>)] = []
        for raw in 1...UInt64(count) {
            let group = GroupID(raw)
            guard let log = try? SegmentGroupLog(directory: "/data/topic/\(raw)", fileSystem: fileSystem, limits: .standard,
                                                 clock: SystemClock(), defersSyncs: true) else { continue }
            if raw % 2 == 1 {
                let request = Message(kind: .vote, from: NodeID(2), to: node, term: Term(1))
                host.receive(from: NodeID(2), group: group, payload: request.encoded())
            }
            let outcome = Outcome<Created>()
            host.addGroup(group, log: log, stateMachine: RecordingStateMachine(), bootstrap: Configuration(voters: voters),
                          campaign: raw % 2 == 0) { outcome.set(Created(succeeded: (try? $0.get()) != nil, syncsBefore: link.sync.syncs)) }
            outcomes.append((group, outcome))
        }
        return outcomes
    }

    /// Eight groups created in one pass: two whole-file-system syncs for all of them (their
    /// files, then the renames), no fdatasync and no directory fsync; each creation completes, and each
    /// pre-vote request and vote response leaves, only after both syncs; after a power cut every
    /// group has its voters and every granted vote is on disk. Fails when the batch sync is
    /// skipped or runs after the sends.
    @Test(arguments: [false, true])
    func groupsCreatedInOnePassShareTwoFileSystemSyncs(asyncWrites: Bool) async throws {
        let simulated = SimulatedFileSystem(seed: 11)
        let fileSystem = SyncCountingFileSystem(simulated)
        let link = SentMessages(sync: CountingFileSystemSync(simulated))
        let host = Self.makeHost(link: link, asyncWrites: asyncWrites)
        let outcomes = Self.postNewGroups(8, to: host, fileSystem: fileSystem, link: link)
        #expect(outcomes.count == 8)
        host.start()
        for (group, outcome) in outcomes {
            let created = try #require(await outcome.wait(), "\(group) answered")
            #expect(created.succeeded, "\(group) was created")
            #expect(created.syncsBefore == 2, "\(group)'s creation was reported after \(created.syncsBefore) syncs, not 2")
        }
        // Pre-vote requests of the 4 campaigning groups to 2 peers, and the 4 vote responses.
        #expect(await eventually { link.all.count >= 12 })
        host.stop()
        // Synchronous storage writes then sync the voting groups' logs once more, together (the
        // group commit of a Ready that changed term or vote), as before deferral.
        #expect(link.sync.syncs == (asyncWrites ? 2 : 3), "one pass of new groups: files, then renames")
        #expect(fileSystem.dataSyncs == 0, "no fdatasync per group")
        #expect(fileSystem.directorySyncs == 0, "no directory fsync per group")
        for sent in link.all {
            #expect(sent.syncsBefore >= 2, "\(sent.group) \(sent.message?.kind as Any) left before its files were durable")
        }
        let granted = link.all.compactMap(\.message).filter { $0.kind == .voteResponse && !$0.reject }
        #expect(granted.count == 4)

        simulated.crash()
        for (group, _) in outcomes {
            let log = try SegmentGroupLog(directory: "/data/topic/\(group.rawValue)", fileSystem: simulated, limits: .standard, clock: SystemClock())
            let (state, configuration) = try log.initialState()
            #expect(configuration.voters == Self.voters, "\(group) lost its bootstrap")
            if group.rawValue % 2 == 1 {
                #expect(state.term == Term(1) && state.vote == NodeID(2), "\(group) lost the vote it granted: \(state)")
            }
        }
    }

    /// A power cut at every point of a pass that creates three groups: reopening never meets a
    /// torn file, and whatever left the node (a pre-vote request, a granted vote) and every
    /// completed creation is backed by what survived: the group's voters, and the granted vote.
    /// Fails when files are moved into place before their contents are synced, or when messages
    /// leave before the batch sync.
    /// A crash point after every file-system operation of creating three groups here, from
    /// their directories to the last whole-file-system sync (34 or 35 operations), and a few more.
    static let operationsToCreateThree = 40

    @Test(arguments: Array(0...operationsToCreateThree) as [Int])
    func aPowerCutAnywhereInTheBatchLeavesNothingPromisedUnbacked(operations: Int) async throws {
        for seed in [UInt64(1), 2, 3] {
            let simulated = SimulatedFileSystem(seed: seed &* 1_000 &+ UInt64(operations))
            let link = SentMessages(sync: CountingFileSystemSync(simulated))
            let host = Self.makeHost(link: link, asyncWrites: seed == 2)
            simulated.scheduleCrash(afterOperations: operations)
            let outcomes = Self.postNewGroups(3, to: host, fileSystem: simulated, link: link)
            host.start()
            var created: Set<GroupID> = []
            for (group, outcome) in outcomes where try #require(await outcome.wait(), "\(group) answered").succeeded {
                created.insert(group)
            }
            if operations == Self.operationsToCreateThree {
                #expect(created.count == 3, "the last crash point lies after the whole batch")
            }
            host.stop()
            simulated.crash()
            for raw in UInt64(1)...3 {
                let group = GroupID(raw)
                let log: SegmentGroupLog
                do {
                    log = try SegmentGroupLog(directory: "/data/topic/\(raw)", fileSystem: simulated, limits: .standard, clock: SystemClock())
                } catch {
                    Issue.record("crash after \(operations) operations, seed \(seed): \(group) cannot be opened: \(error)")
                    continue
                }
                let (state, configuration) = try log.initialState()
                let sent = link.all.filter { $0.group == group }.compactMap(\.message)
                if created.contains(group) || !sent.isEmpty {
                    #expect(configuration.voters == Self.voters,
                            "crash after \(operations) operations, seed \(seed): \(group) was created or spoke, but its voters are gone")
                }
                for vote in sent where vote.kind == .voteResponse && !vote.reject {
                    #expect(state.term > vote.term || (state.term == vote.term && state.vote == vote.to),
                            "crash after \(operations) operations, seed \(seed): \(group) granted a vote in \(vote.term) that is not on disk (\(state))")
                }
            }
        }
    }
}
