import MOMCore

/// `RaftStorage` in memory: for tests and the simulator, and as the reference behaviour for the
/// segment-log storage. Not thread-safe, like the node that reads it.
public final class MemoryStorage: RaftStorage {
    /// The last persisted HardState.
    public private(set) var hardState: HardState = .empty
    /// The snapshot the log starts after.
    public private(set) var latestSnapshot: Snapshot
    /// `log[0]` is a dummy at the snapshot's (index, term), so `term(at: firstIndex - 1)` works;
    /// `log[i].index == log[0].index + i` for every i.
    private var log: [Entry]

    /// Storage whose log starts after `snapshot` (empty: a fresh node).
    public init(snapshot: Snapshot = Snapshot()) {
        self.latestSnapshot = snapshot
        self.log = [Entry(term: snapshot.metadata.term, index: snapshot.metadata.index)]
        if !snapshot.isEmpty { hardState = HardState(term: snapshot.metadata.term, vote: nil, commit: snapshot.metadata.index) }
    }

    private var offset: LogIndex { log[0].index }
    private var lastStoredIndex: LogIndex { offset.advanced(by: UInt64(log.count - 1)) }

    /// The HardState and the snapshot's configuration.
    public func initialState() throws -> (HardState, Configuration) {
        (hardState, latestSnapshot.metadata.configuration)
    }

    /// Persists a Ready's HardState.
    public func setHardState(_ state: HardState) { hardState = state }

    /// The index after the snapshot.
    public func firstIndex() throws -> LogIndex { offset.next }

    /// The last stored index (the snapshot index when empty).
    public func lastIndex() throws -> LogIndex { lastStoredIndex }

    /// The term at `index`, from the snapshot index on.
    public func term(at index: LogIndex) throws -> Term {
        if index < offset { throw RaftStorageError.compacted }
        let position = index.rawValue - offset.rawValue
        guard position < UInt64(log.count) else { throw RaftStorageError.unavailable }
        return log[Int(position)].term
    }

    /// Entries in [from, to), at most `maxBytes` but at least one.
    public func entries(from: LogIndex, to: LogIndex, maxBytes: Int) throws -> [Entry] {
        if from <= offset { throw RaftStorageError.compacted }
        guard to <= lastStoredIndex.next else { throw RaftStorageError.unavailable }
        precondition(from <= to, "entries(from: \(from), to: \(to)): inverted range")
        let lower = Int(from.rawValue - offset.rawValue)
        let upper = Int(to.rawValue - offset.rawValue)
        return limitSize(Array(log[lower..<upper]), maxBytes: maxBytes)
    }

    /// The latest snapshot, to send to lagging followers.
    public func snapshot() throws -> Snapshot { latestSnapshot }

    /// Replaces the storage with `snapshot` (a follower installing a leader's snapshot).
    public func applySnapshot(_ snapshot: Snapshot) throws {
        guard snapshot.metadata.index > latestSnapshot.metadata.index else {
            throw RaftStorageError.snapshotOutOfDate
        }
        latestSnapshot = snapshot
        log = [Entry(term: snapshot.metadata.term, index: snapshot.metadata.index)]
    }

    /// Records a snapshot of the state machine at `index` (already applied), so the log before it
    /// can be compacted. `configuration` is the membership in force at `index`.
    @discardableResult
    public func createSnapshot(at index: LogIndex, configuration: Configuration, data: [UInt8]) throws -> Snapshot {
        if index <= latestSnapshot.metadata.index { throw RaftStorageError.snapshotOutOfDate }
        precondition(index <= lastStoredIndex, "snapshot at \(index) beyond the last index")
        let metadata = SnapshotMetadata(index: index, term: try term(at: index), configuration: configuration)
        latestSnapshot = Snapshot(metadata: metadata, data: data)
        return latestSnapshot
    }

    /// Discards entries up to and including `index` (which must be covered by a snapshot the
    /// application can send), so the log starts at `index + 1`.
    public func compact(upTo index: LogIndex) throws {
        if index <= offset { throw RaftStorageError.compacted }
        precondition(index <= lastStoredIndex, "compact(upTo: \(index)) beyond the last index")
        let position = Int(index.rawValue - offset.rawValue)
        let dummy = Entry(term: log[position].term, index: index)
        log = [dummy] + log[(position + 1)...]
    }

    /// Appends `entries`, replacing any stored suffix they overlap (a follower overwriting a
    /// conflicting tail). Entries already covered by the snapshot are skipped.
    public func append(_ entries: [Entry]) throws {
        guard var first = entries.first?.index else { return }
        let last = entries[entries.count - 1].index
        if last <= offset { return }
        var remaining = entries[...]
        if first <= offset {
            remaining = remaining.dropFirst(Int(offset.rawValue - first.rawValue + 1))
            first = offset.next
        }
        let position = Int(first.rawValue - offset.rawValue)
        precondition(position <= log.count, "append at \(first) leaves a gap after \(lastStoredIndex)")
        log.removeSubrange(position...)
        log.append(contentsOf: remaining)
    }
}
