import MOMCore
import Raft
import SegmentLog
import SystemIO

/// A Raft group's durable log as the replication host drives it: Raft reads through
/// `RaftStorage`; the host writes what each Ready says, then syncs every dirty log once
/// (group commit) before sending the Ready's messages.
public protocol GroupLog: RaftStorage {
    /// Appends entries, first discarding any stored suffix from `entries[0].index` on
    /// (a Raft conflict). Not durable until `sync()`.
    func append(_ entries: [Entry]) throws
    /// Records the hard state. Term and vote changes must be durable by the next `sync()`, and
    /// with asynchronous storage writes (which may send a vote before any sync) when this
    /// returns, as `SegmentGroupLog` does (an atomic file replaced durably), unless the log
    /// defers them (`hasDeferredWrites`).
    func save(_ hardState: HardState) throws
    /// Replaces the whole log with a snapshot: the log then starts after `snapshot.metadata.index`.
    func install(_ snapshot: Snapshot) throws
    /// Makes everything written so far durable (fdatasync). One call covers many appends.
    func sync() throws
    /// Called instead of `sync()` right after the host synced the whole file system holding
    /// this log (syncfs): records everything written so far as durable without a sync of its
    /// own. The default syncs anyway, which is always safe.
    func markSyncedByFileSystemSync() throws
    /// Asynchronous storage writes: where the log ends now. A whole-file-system sync that starts
    /// after this call covers everything up to the point.
    func syncPoint() throws -> GroupSyncPoint
    /// Records the log durable up to `point` after such a sync finished, while later writes stay
    /// pending. Returns false, changing nothing, when the log was rewritten (truncated, reset)
    /// since the point was taken: the sync may not have covered what the log now holds there.
    func markSynced(through point: GroupSyncPoint) throws -> Bool
    /// A handle to fdatasync everything written so far from another thread, instead of a
    /// whole-file-system sync (nil: the caller syncs the whole file system).
    func syncHandle() throws -> (any FileSyncHandle)?
    /// Records the initial configuration of a brand-new, empty log (durable on return, or
    /// deferred, see `hasDeferredWrites`), so every replica of a new group starts from the same
    /// voters, like etcd's initial cluster.
    func bootstrap(_ configuration: Configuration) throws
    /// Discards entries before `index` (retention); they are covered by `snapshot`.
    func compact(before index: LogIndex, snapshot: Snapshot) throws

    /// Deferred durability: the log's own creation, `bootstrap` and the term and vote of
    /// `save` were written but not synced. The host then holds back every message of the
    /// group and the completion of its creation until they are durable, and makes them durable
    /// together with those of other groups of the same loop pass: a whole-file-system sync,
    /// `installDeferredWrites`, a second such sync, `markDeferredWritesDurable`; or, on its
    /// own, `syncDeferredWrites`. A crash before then leaves each file old or new, never torn.
    var hasDeferredWrites: Bool { get }
    /// Makes the deferred writes durable with syncs of its own (fdatasync, rename, directory fsync).
    func syncDeferredWrites() throws
    /// After a whole-file-system sync that started after the deferred writes: moves the written
    /// files into place (renames, not yet durable).
    func installDeferredWrites() throws
    /// After a second whole-file-system sync, started after `installDeferredWrites`.
    func markDeferredWritesDurable()
}

/// Where a log ended when a sync point was taken: its last index, and for a segment log where
/// in the active segment that was.
public struct GroupSyncPoint: Sendable, Equatable {
    public let lastIndex: LogIndex
    let segment: SegmentLog.SyncPoint?

    public init(lastIndex: LogIndex) {
        self.lastIndex = lastIndex
        self.segment = nil
    }

    init(segment: SegmentLog.SyncPoint) {
        // Offsets below `end` hold indices up to `end` (index i is offset i − 1).
        self.lastIndex = LogIndex(segment.end.rawValue)
        self.segment = segment
    }
}

extension GroupLog {
    /// A log that writes everything durably at once has nothing deferred.
    public var hasDeferredWrites: Bool { false }
    public func syncDeferredWrites() throws {}
    public func installDeferredWrites() throws {}
    public func markDeferredWritesDurable() {}
    public func markSyncedByFileSystemSync() throws { try sync() }
    /// A log without its own sync points: its last index.
    public func syncPoint() throws -> GroupSyncPoint { GroupSyncPoint(lastIndex: try lastIndex()) }
    public func syncHandle() throws -> (any FileSyncHandle)? { nil }
    /// Syncs the log itself, which is always safe (an in-memory log does nothing).
    public func markSynced(through point: GroupSyncPoint) throws -> Bool {
        try sync()
        return true
    }
}

/// An in-memory `GroupLog` for tests and the simulator: durable means "in memory".
public final class MemoryGroupLog: GroupLog {
    public private(set) var storage: MemoryStorage

    public init(storage: MemoryStorage = MemoryStorage()) { self.storage = storage }

    public func initialState() throws -> (HardState, Configuration) { try storage.initialState() }
    public func entries(from: LogIndex, to: LogIndex, maxBytes: Int) throws -> [Entry] {
        try storage.entries(from: from, to: to, maxBytes: maxBytes)
    }
    public func term(at index: LogIndex) throws -> Term { try storage.term(at: index) }
    public func firstIndex() throws -> LogIndex { try storage.firstIndex() }
    public func lastIndex() throws -> LogIndex { try storage.lastIndex() }
    public func snapshot() throws -> Snapshot { try storage.snapshot() }

    public func append(_ entries: [Entry]) throws { try storage.append(entries) }
    public func save(_ hardState: HardState) throws { storage.setHardState(hardState) }
    public func install(_ snapshot: Snapshot) throws { try storage.applySnapshot(snapshot) }
    public func sync() throws {}
    public func bootstrap(_ configuration: Configuration) throws {
        let last = try lastIndex()
        precondition(last == .zero, "bootstrap of a log that holds entries")
        let metadata = SnapshotMetadata(index: .zero, term: .zero, configuration: configuration)
        storage = MemoryStorage(snapshot: Snapshot(metadata: metadata, data: []))
    }
    public func compact(before index: LogIndex, snapshot: Snapshot) throws {
        try storage.compact(upTo: index.previous)
    }
}
