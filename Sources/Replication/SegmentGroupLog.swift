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
    public init(
        directory: String, fileSystem: any FileSystem, limits: Limits, clock: any Clock,
        cachedTailBytes: UInt64? = SegmentLog.defaultCachedTailBytes
    ) throws {
        self.directory = directory
        self.fileSystem = fileSystem
        self.limits = limits
        self.clock = clock
        try Self.makeDirectories(directory, fileSystem: fileSystem)
        if let bytes = try AtomicFile.read(Self.snapshotPath(directory), fileSystem: fileSystem) {
            latestSnapshot = try SnapshotFile.decode(bytes, limits: limits)
        }
        if let bytes = try AtomicFile.read(Self.statePath(directory), fileSystem: fileSystem) {
            hardState = try HardStateFile.decode(bytes)
            durableTermVote = (hardState.term, hardState.vote)
        }
        let start = Offset(latestSnapshot.metadata.index.rawValue)
        log = try SegmentLog.open(directory: directory, fileSystem: fileSystem,
                                  configuration: .init(limits: limits, clock: clock, initialOffset: start, cachedTailBytes: cachedTailBytes))
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

    public static func makeDirectories(_ path: String, fileSystem: any FileSystem) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/\(component)"
            if !fileSystem.exists(prefix) { try fileSystem.makeDirectory(prefix) }
        }
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
        guard hardState.term != durableTermVote.0 || hardState.vote != durableTermVote.1 else { return }
        // A vote or term must never be lost: replace the file now, durably.
        try AtomicFile.write(HardStateFile.encode(hardState), to: Self.statePath(directory), fileSystem: fileSystem)
        durableTermVote = (hardState.term, hardState.vote)
    }

    public func install(_ snapshot: Snapshot) throws {
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
        try install(Snapshot(metadata: SnapshotMetadata(index: .zero, term: .zero, configuration: configuration), data: []))
    }

    public func compact(before index: LogIndex, snapshot: Snapshot) throws {
        precondition(snapshot.metadata.index.next >= index, "compaction beyond the snapshot")
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
