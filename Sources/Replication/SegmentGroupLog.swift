import MOMCore
import Raft
import SegmentLog
import SystemIO

/// A group's Raft log stored in its partition's segment log: the Raft log *is* the partition
/// log, and each entry is written once. Entry i is record offset i − 1; a batch holds entries of
/// one term and one kind (attribute bit 0 marks membership changes).
///
/// Beside the segments, two small files, each replaced atomically (temp, fsync, rename, fsync dir):
/// `raft-state` (term, vote; the commit index is not needed for safety and is not synced) and
/// `raft-snapshot` (the log start: index, term, configuration, state-machine data).
/// Recent entries stay in a bounded in-memory tail so leaders replicate without re-reading disk.
public final class SegmentGroupLog: GroupLog {
    static let configChangeAttribute: UInt16 = 1

    let directory: String
    let fileSystem: any FileSystem
    let limits: Limits
    let clock: any Clock
    let log: SegmentLog
    private var hardState = HardState()
    /// Term and vote as last made durable.
    private var durableTermVote: (Term, NodeID?) = (.zero, nil)
    /// Term and vote as last written (ahead of `durableTermVote` while a deferred write waits).
    private var writtenTermVote: (Term, NodeID?) = (.zero, nil)
    /// Deferred durability (`defersSyncs`): the creation of this log, its bootstrap snapshot
    /// and its term and vote changes are written without their syncs; the host makes them
    /// durable together with other groups' before any message of this group leaves
    /// (`GroupLog.hasDeferredWrites`). Off: each is durable when its call returns.
    let defersSyncs: Bool
    /// Directories this log created and whose entries are not durable yet (deferred only).
    private var unsyncedDirectories: [String] = []
    /// Files whose new contents wait in `<path>.tmp`, not synced and not renamed yet.
    private var unsyncedReplacements: [String] = []
    private var latestSnapshot = Snapshot()
    private let buffer = RecordBatchBuffer()
    private var tail = EntryTail(bytesMax: SegmentGroupLog.tailBytesMax)
    /// The in-memory tail's bound, per log. 8 MiB is 80 ms of a busy partition: an in-sync
    /// follower and the apply step read from it; anything older comes from the segment log
    /// (the page cache). It was 32 MiB: each new partition then took 32 MiB of heap the node
    /// never used before, which on this project's VMs made the third busy topic of a run half
    /// as fast (docs/performance.md §19).
    static let tailBytesMax = 8 << 20

    /// `cachedTailBytes`: `SegmentLog.Configuration.cachedTailBytes` (how much durable data stays
    /// in the page cache behind the log end; nil keeps all of it).
    /// `defersSyncs`: see the property; only for a host that honours `hasDeferredWrites`.
    public init(
        directory: String, fileSystem: any FileSystem, limits: Limits, clock: any Clock,
        cachedTailBytes: UInt64? = SegmentLog.defaultCachedTailBytes, defersSyncs: Bool = false
    ) throws {
        self.directory = directory
        self.fileSystem = fileSystem
        self.limits = limits
        self.clock = clock
        self.defersSyncs = defersSyncs
        let created = try Self.makeDirectories(directory, fileSystem: fileSystem)
        // Each new directory's entry lives in its parent (the log's own entries are
        // `SegmentLog`'s). Without deferral they are left to the segment directory's fsync, as
        // before, which on ext4 commits the journal that holds them.
        if defersSyncs { unsyncedDirectories = Self.parentsToSync(ofCreated: created) }
        if let bytes = try AtomicFile.read(Self.snapshotPath(directory), fileSystem: fileSystem) {
            latestSnapshot = try SnapshotFile.decode(bytes, limits: limits)
        }
        if let bytes = try AtomicFile.read(Self.statePath(directory), fileSystem: fileSystem) {
            hardState = try HardStateFile.decode(bytes)
            durableTermVote = (hardState.term, hardState.vote)
            writtenTermVote = durableTermVote
        }
        let start = Offset(latestSnapshot.metadata.index.rawValue)
        log = try SegmentLog.open(directory: directory, fileSystem: fileSystem,
                                  configuration: .init(limits: limits, clock: clock, initialOffset: start, cachedTailBytes: cachedTailBytes,
                                                       defersCreationSync: defersSyncs))
        if log.logEndOffset < start || log.logStartOffset > start {
            // The log and the snapshot disagree (a crash between installing a snapshot and
            // resetting the segments): the snapshot wins, the segments restart after it.
            try resetSegments(startingAt: start)
        } else if log.logStartOffset < start {
            _ = try log.deletePrefix(before: start)
        }
    }

    static func statePath(_ directory: String) -> String { "\(directory)/raft-state" }
    static func snapshotPath(_ directory: String) -> String { "\(directory)/raft-snapshot" }

    /// Creates `path` and any missing parents; returns the directories it created, outermost first.
    @discardableResult
    public static func makeDirectories(_ path: String, fileSystem: any FileSystem) throws -> [String] {
        var prefix = path.hasPrefix("/") ? "" : "."
        var created: [String] = []
        for component in path.split(separator: "/") {
            prefix += "/\(component)"
            if !fileSystem.exists(prefix) {
                try fileSystem.makeDirectory(prefix)
                created.append(prefix)
            }
        }
        return created
    }

    /// The directories whose fsync makes `created` durable: the parent of each.
    static func parentsToSync(ofCreated created: [String]) -> [String] {
        var parents: [String] = []
        for directory in created {
            let parent = AtomicFile.parentDirectory(of: directory)
            if !parents.contains(parent) { parents.append(parent) }
        }
        return parents
    }

    // MARK: RaftStorage

    /// The commit index is not synced on its own, so it may lag a snapshot installed since:
    /// everything up to the snapshot is committed by definition (Raft refuses a commit index
    /// below the log start). It may also lead the log: `raft-state` is replaced durably when
    /// term or vote change, with the commit index of that moment, while entries below it can
    /// still be unsynced and lost in a crash. The commit index is volatile in Raft (the leader
    /// tells it again), so it is lowered to the log's end rather than trusted.
    public func initialState() throws -> (HardState, Configuration) {
        var state = hardState
        state.commit = max(min(state.commit, try lastIndex()), latestSnapshot.metadata.index)
        return (state, latestSnapshot.metadata.configuration)
    }

    public func firstIndex() throws -> LogIndex { latestSnapshot.metadata.index.next }

    public func lastIndex() throws -> LogIndex { LogIndex(log.logEndOffset.rawValue) }

    public func snapshot() throws -> Snapshot { latestSnapshot }

    public func term(at index: LogIndex) throws -> Term {
        if index == latestSnapshot.metadata.index { return latestSnapshot.metadata.term }
        if index < latestSnapshot.metadata.index { throw RaftStorageError.compacted }
        if index > (try lastIndex()) { throw RaftStorageError.unavailable }
        if let entry = tail.entry(at: index) { return entry.term }
        let records = try log.read(from: GroupLogMapping.offset(of: index), maxBytes: 1, maxRecords: 1)
        guard let record = records.first else { throw RaftStorageError.unavailable }
        return record.term
    }

    public func entries(from: LogIndex, to: LogIndex, maxBytes: Int) throws -> [Entry] {
        if from <= latestSnapshot.metadata.index { throw RaftStorageError.compacted }
        if to > (try lastIndex()).next { throw RaftStorageError.unavailable }
        guard from < to else { return [] }
        if let cached = tail.entries(from: from, to: to, maxBytes: maxBytes) { return cached }
        let count = Int(to.rawValue - from.rawValue)
        let records = try log.read(from: GroupLogMapping.offset(of: from), maxBytes: max(maxBytes, 1), maxRecords: count)
        var result: [Entry] = []
        result.reserveCapacity(records.count)
        for record in records {
            let kind: EntryKind = record.attributes & Self.configChangeAttribute != 0 ? .configChange : .normal
            result.append(Entry(term: record.term, index: GroupLogMapping.index(of: record.offset), kind: kind, data: Array(record.value)))
        }
        return result
    }

    // MARK: GroupLog writes

    public func append(_ entries: [Entry]) throws {
        guard let first = entries.first else { return }
        precondition(first.index > latestSnapshot.metadata.index, "append below the snapshot")
        let last = try lastIndex()
        precondition(first.index <= last.next, "append leaves a gap")
        if first.index <= last {
            try log.truncate(from: GroupLogMapping.offset(of: first.index))
            tail.truncate(from: first.index)
        }
        buffer.removeAll()
        let now = clock.wallMilliseconds()
        var runStart = 0
        while runStart < entries.count {
            let term = entries[runStart].term
            let kind = entries[runStart].kind
            buffer.beginBatch(term: term, attributes: kind == .configChange ? Self.configChangeAttribute : 0, timestampMilliseconds: now)
            var index = runStart
            while index < entries.count, entries[index].term == term, entries[index].kind == kind,
                  index - runStart < limits.batchRecordsMax {
                buffer.appendRecord(entries[index].data)
                index += 1
            }
            buffer.endBatch()
            runStart = index
        }
        _ = try log.append(buffer)
        tail.append(entries)
    }

    public func save(_ hardState: HardState) throws {
        self.hardState = hardState
        guard hardState.term != writtenTermVote.0 || hardState.vote != writtenTermVote.1 else { return }
        writtenTermVote = (hardState.term, hardState.vote)
        if defersSyncs {
            // The host makes it durable before any message of this pass leaves.
            try writeDeferred(HardStateFile.encode(hardState), to: Self.statePath(directory))
            return
        }
        // A vote or term must never be lost: replace the file now, durably.
        try AtomicFile.write(HardStateFile.encode(hardState), to: Self.statePath(directory), fileSystem: fileSystem)
        durableTermVote = writtenTermVote
    }

    public func install(_ snapshot: Snapshot) throws {
        // Written durably now: a deferred bootstrap snapshot it replaces is not moved in later.
        unsyncedReplacements.removeAll { $0 == Self.snapshotPath(directory) }
        try AtomicFile.write(SnapshotFile.encode(snapshot), to: Self.snapshotPath(directory), fileSystem: fileSystem)
        latestSnapshot = snapshot
        tail.removeAll()
        try resetSegments(startingAt: Offset(snapshot.metadata.index.rawValue))
    }

    public func sync() throws { try log.flush() }

    public func markSyncedByFileSystemSync() throws { try log.markFlushedByFileSystemSync() }

    public func syncPoint() throws -> GroupSyncPoint { GroupSyncPoint(segment: log.syncPoint) }

    public func syncHandle() throws -> (any FileSyncHandle)? { try log.activeSyncHandle() }

    public func markSynced(through point: GroupSyncPoint) throws -> Bool {
        guard let segment = point.segment else { preconditionFailure("a sync point of another log") }
        return try log.markFlushedByFileSystemSync(through: segment)
    }

    public func bootstrap(_ configuration: Configuration) throws {
        let last = try lastIndex()
        precondition(last == .zero, "bootstrap of a log that holds entries")
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: .zero, term: .zero, configuration: configuration), data: [])
        guard defersSyncs else { return try install(snapshot) }
        // An empty log at offset 0 needs no reset; only the snapshot file is new.
        precondition(log.logStartOffset == .zero && log.logEndOffset == .zero, "bootstrap of a log that is not empty")
        try writeDeferred(SnapshotFile.encode(snapshot), to: Self.snapshotPath(directory))
        latestSnapshot = snapshot
        tail.removeAll()
    }

    // MARK: Deferred durability

    public var hasDeferredWrites: Bool {
        log.creationIsUnsynced || !unsyncedDirectories.isEmpty || !unsyncedReplacements.isEmpty
    }

    /// Writes `<path>.tmp` now; it is synced and renamed over `path` with the deferred writes.
    private func writeDeferred(_ payload: [UInt8], to path: String) throws {
        try AtomicFile.writeTemporary(payload, for: path, fileSystem: fileSystem, sync: false)
        if !unsyncedReplacements.contains(path) { unsyncedReplacements.append(path) }
    }

    public func syncDeferredWrites() throws {
        for path in unsyncedReplacements {
            try AtomicFile.syncTemporary(for: path, fileSystem: fileSystem)
            try AtomicFile.moveTemporaryIntoPlace(for: path, fileSystem: fileSystem)
        }
        // The renames and the new segment's files are entries of the log's directory.
        if !unsyncedReplacements.isEmpty || log.creationIsUnsynced { try fileSystem.syncDirectory(directory) }
        for parent in unsyncedDirectories where parent != directory { try fileSystem.syncDirectory(parent) }
        deferredWritesDurable()
    }

    public func installDeferredWrites() throws {
        for path in unsyncedReplacements { try AtomicFile.moveTemporaryIntoPlace(for: path, fileSystem: fileSystem) }
        unsyncedReplacements.removeAll()
    }

    public func markDeferredWritesDurable() {
        precondition(unsyncedReplacements.isEmpty, "deferred files marked durable before they were moved into place")
        deferredWritesDurable()
    }

    private func deferredWritesDurable() {
        log.markCreationDurable()
        unsyncedDirectories.removeAll()
        unsyncedReplacements.removeAll()
        durableTermVote = writtenTermVote
    }

    public func compact(before index: LogIndex, snapshot: Snapshot) throws {
        precondition(snapshot.metadata.index.next >= index, "compaction beyond the snapshot")
        unsyncedReplacements.removeAll { $0 == Self.snapshotPath(directory) }
        try AtomicFile.write(SnapshotFile.encode(snapshot), to: Self.snapshotPath(directory), fileSystem: fileSystem)
        latestSnapshot = snapshot
        _ = try log.deletePrefix(before: GroupLogMapping.offset(of: index))
    }

    /// Empties the segments and restarts them at `start` (after a snapshot install), through
    /// SegmentLog's own crash-safe reset. A crash midway reopens at the snapshot's offset, and
    /// `init` repeats the reset if the log does not start there. A log that is already empty
    /// at `start` (every new group's bootstrap) is left alone: the reset would rename, recreate
    /// and delete its empty segment and sync the directory for the same state, and with 1,000
    /// new partitions those syncs are a visible part of the creation time.
    private func resetSegments(startingAt start: Offset) throws {
        if log.logStartOffset == start && log.logEndOffset == start && log.durableEndOffset == start { return }
        try log.reset(startingAt: start)
    }
}
