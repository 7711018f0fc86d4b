import MOMCore
import Raft

/// What one node's disk holds: the latest snapshot, the log after it, and the hard state.
/// A value, so "what is synced" is simply a copy of "what is written".
public struct DiskImage: Equatable, Sendable {
    /// The snapshot the log starts after.
    public var snapshot: Snapshot
    /// `entries[k].index == snapshot.metadata.index + 1 + k`.
    public var entries: [Entry]
    /// The last hard state written.
    public var hardState: HardState

    /// An image holding only `snapshot`, as a freshly bootstrapped node's disk does.
    public init(snapshot: Snapshot, entries: [Entry] = [], hardState: HardState? = nil) {
        self.snapshot = snapshot
        self.entries = entries
        self.hardState = hardState
            ?? (snapshot.isEmpty ? .empty : HardState(term: snapshot.metadata.term, vote: nil, commit: snapshot.metadata.index))
    }

    /// The index the snapshot covers; entries start after it.
    public var snapshotIndex: LogIndex { snapshot.metadata.index }
    /// The last index held, entry or snapshot.
    public var lastIndex: LogIndex { snapshotIndex.advanced(by: UInt64(entries.count)) }

    /// The entry at `index`, if the image holds it as an entry (not compacted, not beyond).
    public func entry(at index: LogIndex) -> Entry? {
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[Int(index.rawValue - snapshotIndex.rawValue - 1)]
    }

    /// The term at `index`, including the snapshot's own index.
    public func term(at index: LogIndex) -> Term? {
        if index == snapshotIndex { return snapshot.metadata.term }
        return entry(at: index)?.term
    }

    /// Appends `newEntries`, replacing the suffix they overlap (a follower overwriting a
    /// conflicting tail); entries covered by the snapshot are skipped.
    mutating func append(_ newEntries: [Entry]) {
        guard let first = newEntries.first?.index else { return }
        var remaining = newEntries[...]
        if first <= snapshotIndex {
            remaining = remaining.dropFirst(Int(snapshotIndex.rawValue - first.rawValue + 1))
        }
        guard let start = remaining.first?.index else { return }
        precondition(start <= lastIndex.next, "append at \(start) leaves a gap after \(lastIndex)")
        entries.removeSubrange(Int(start.rawValue - snapshotIndex.rawValue - 1)...)
        entries.append(contentsOf: remaining)
    }

    /// Replaces the log with `newSnapshot` (a follower installing a leader's snapshot), like
    /// `MemoryStorage.applySnapshot`.
    mutating func install(_ newSnapshot: Snapshot) {
        guard newSnapshot.metadata.index > snapshotIndex else { return }
        snapshot = newSnapshot
        entries = []
    }

    /// Records `newSnapshot` (taken by this node at an index it holds) and drops the entries it
    /// covers. Does nothing when the image does not hold that entry (e.g. it lags the written image).
    mutating func compact(to newSnapshot: Snapshot) {
        let index = newSnapshot.metadata.index
        guard index > snapshotIndex, let held = entry(at: index), held.term == newSnapshot.metadata.term else { return }
        entries.removeSubrange(..<Int(index.rawValue - snapshotIndex.rawValue))
        snapshot = newSnapshot
        // The snapshot covers applied, hence committed, entries. A commit-only hard state is
        // written without sync and may lag on disk; the snapshot file records the commit too,
        // so a restart never sees a commit index below the log start (Raft refuses that).
        if hardState.commit < index { hardState.commit = index }
    }
}

/// `RaftStorage` with a crash model: writes land in `written` (the page cache) and become
/// `durable` only on `sync()`; `crash()` throws away everything not synced. Raft reads the
/// written image, as a real host reads its own page cache.
public final class SimulatedStorage: RaftStorage {
    /// What reads see: everything written, synced or not.
    public private(set) var written: DiskImage
    /// What survives a crash.
    public private(set) var durable: DiskImage
    /// Whether `written` holds anything `durable` lacks (tracked, to avoid comparing images).
    public private(set) var hasUnsyncedWrites = false

    /// A disk holding `image`, fully synced.
    public init(image: DiskImage) {
        written = image
        durable = image
    }

    /// Writes a Ready's snapshot, entries and hard state, in that order, without syncing.
    public func write(snapshot: Snapshot?, entries: [Entry], hardState: HardState?) {
        if let snapshot { written.install(snapshot) }
        written.append(entries)
        if let hardState { written.hardState = hardState }
        if snapshot != nil || !entries.isEmpty || hardState != nil { hasUnsyncedWrites = true }
    }

    /// fdatasync: everything written is now durable.
    public func sync() {
        guard hasUnsyncedWrites else { return }
        durable = written
        hasUnsyncedWrites = false
    }

    /// Asynchronous storage writes: term and vote (with the commit index of the moment) are
    /// replaced durably on their own, as `SegmentGroupLog.save` does; entries stay unsynced.
    public func syncHardState() {
        durable.hardState = written.hardState
    }

    /// Power loss: unsynced writes vanish.
    public func crash() {
        written = durable
        hasUnsyncedWrites = false
    }

    /// The application snapshots its state machine and compacts the log. Written with its own
    /// fsync and atomic rename, so it reaches both images at once (where they hold the entry).
    public func compact(to snapshot: Snapshot) {
        written.compact(to: snapshot)
        durable.compact(to: snapshot)
    }

    // MARK: RaftStorage

    /// The written hard state and the snapshot's configuration (the node restarts at the snapshot).
    /// The commit index may lead the log after a crash when the hard state was synced on its
    /// own (asynchronous storage writes): it is lowered to the log's end, as `SegmentGroupLog` does.
    public func initialState() throws -> (HardState, Configuration) {
        var state = written.hardState
        state.commit = max(min(state.commit, written.lastIndex), written.snapshotIndex)
        return (state, written.snapshot.metadata.configuration)
    }

    /// Entries in [from, to), at most `maxBytes` but at least one.
    public func entries(from: LogIndex, to: LogIndex, maxBytes: Int) throws -> [Entry] {
        if from <= written.snapshotIndex { throw RaftStorageError.compacted }
        guard to <= written.lastIndex.next else { throw RaftStorageError.unavailable }
        precondition(from <= to, "entries(from: \(from), to: \(to)): inverted range")
        let lower = Int(from.rawValue - written.snapshotIndex.rawValue - 1)
        let upper = Int(to.rawValue - written.snapshotIndex.rawValue - 1)
        var result: [Entry] = []
        var totalBytes = 0
        for entry in written.entries[lower..<upper] {
            totalBytes += entry.sizeBytes
            if !result.isEmpty && totalBytes > maxBytes { break }
            result.append(entry)
        }
        return result
    }

    /// The term at `index`, from the snapshot index to the last index.
    public func term(at index: LogIndex) throws -> Term {
        if index < written.snapshotIndex { throw RaftStorageError.compacted }
        guard let term = written.term(at: index) else { throw RaftStorageError.unavailable }
        return term
    }

    /// The index after the snapshot.
    public func firstIndex() throws -> LogIndex { written.snapshotIndex.next }

    /// The last index held.
    public func lastIndex() throws -> LogIndex { written.lastIndex }

    /// The latest snapshot, sent to followers that lag behind the log start.
    public func snapshot() throws -> Snapshot { written.snapshot }
}
