import MOMCore
import Raft

/// A Raft group's durable log as the replication host drives it: Raft reads through
/// `RaftStorage`; the host writes what each Ready says, then syncs every dirty log once
/// (group commit) before sending the Ready's messages.
public protocol GroupLog: RaftStorage {
    /// Appends entries, first discarding any stored suffix from `entries[0].index` on
    /// (a Raft conflict). Not durable until `sync()`.
    func append(_ entries: [Entry]) throws
    /// Records the hard state. Term and vote changes must be durable by the next `sync()`.
    func save(_ hardState: HardState) throws
    /// Replaces the whole log with a snapshot: the log then starts after `snapshot.metadata.index`.
    func install(_ snapshot: Snapshot) throws
    /// Makes everything written so far durable (fdatasync). One call covers many appends.
    func sync() throws
    /// Called instead of `sync()` right after the host synced the whole file system holding
    /// this log (syncfs): records everything written so far as durable without a sync of its
    /// own. The default syncs anyway, which is always safe.
    func markSyncedByFileSystemSync() throws
    /// Records the initial configuration of a brand-new, empty log (durable on return), so every
    /// replica of a new group starts from the same voters, like etcd's initial cluster.
    func bootstrap(_ configuration: Configuration) throws
    /// Discards entries before `index` (retention); they are covered by `snapshot`.
    func compact(before index: LogIndex, snapshot: Snapshot) throws
}

extension GroupLog {
    public func markSyncedByFileSystemSync() throws { try sync() }
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
