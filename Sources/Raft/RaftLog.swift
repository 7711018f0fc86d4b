import MOMCore

/// The log as Raft sees it: stable storage followed by the unstable tail (etcd's log.go).
///
/// Invariants: `applied <= committed <= lastIndex`; `firstIndex - 1 <= applied` (what was
/// compacted was applied); entries up to `committed` never change.
struct RaftLog {
    let storage: any RaftStorage
    var unstable: UnstableLog
    /// The highest index known to be stored on a quorum. Never decreases.
    private(set) var committed: LogIndex
    /// The highest index the application has applied. Never decreases; `<= committed`.
    private(set) var applied: LogIndex
    /// Stable entries up to here are also synced (asynchronous storage writes hand over entries
    /// written but not yet synced; otherwise this keeps up with the stable index). Only synced
    /// entries are applied, so a state machine never acts on an entry its own disk could still
    /// lose (a deleted partition's files, say, for a metadata entry lost in a power cut).
    private var syncedIndex: LogIndex
    /// Committed bytes handed out per Ready (at least one entry).
    let committedEntriesBytesMax: Int
    /// TEST-ONLY (planted bugs): a leader may then send entries that conflict with our
    /// committed ones. Instead of trapping, we refuse them, so the simulator's checkers (not a
    /// crash) report the broken safety.
    var refusesCommittedConflicts = false

    init(storage: any RaftStorage, committedEntriesBytesMax: Int) {
        self.storage = storage
        let first = RaftLog.read { try storage.firstIndex() }
        let last = RaftLog.read { try storage.lastIndex() }
        unstable = UnstableLog(offset: last.next)
        committed = first.previous
        applied = first.previous
        syncedIndex = last
        self.committedEntriesBytesMax = committedEntriesBytesMax
    }

    /// Storage reads other than `.compacted` / `.unavailable` mean the disk failed; like etcd,
    /// the node stops rather than continue on a log it cannot read.
    static func read<T>(_ body: () throws -> T) -> T {
        do { return try body() } catch { preconditionFailure("raft storage failed: \(error)") }
    }

    var firstIndex: LogIndex { unstable.firstIndexIfKnown ?? RaftLog.read { try storage.firstIndex() } }
    var lastIndex: LogIndex { unstable.lastIndexIfKnown ?? RaftLog.read { try storage.lastIndex() } }
    var lastTerm: Term { term(at: lastIndex) ?? .zero }

    /// Everything up to this index is durable locally.
    /// `.zero` while a received snapshot is not yet persisted (nothing is known durable then).
    var stableLastIndex: LogIndex { unstable.stableLastIndex ?? .zero }
    /// Everything up to this index is stable and synced.
    var syncedLastIndex: LogIndex { min(stableLastIndex, syncedIndex) }

    /// A sync covering the stable entries up to `index` finished (the caller checked that the
    /// log still holds the entry it wrote there).
    mutating func markSynced(upTo index: LogIndex) {
        syncedIndex = max(syncedIndex, min(index, stableLastIndex))
    }

    /// The term at `index`, or nil when it was compacted or is beyond the log.
    func term(at index: LogIndex) -> Term? {
        // The valid range is [firstIndex - 1, lastIndex]: the entry before the first is the
        // snapshot's, whose term is still known.
        guard index >= firstIndex.previous, index <= lastIndex else { return nil }
        if let term = unstable.term(at: index) { return term }
        do {
            return try storage.term(at: index)
        } catch RaftStorageError.compacted, RaftStorageError.unavailable {
            return nil
        } catch {
            preconditionFailure("raft storage failed: \(error)")
        }
    }

    func matchTerm(_ index: LogIndex, _ term: Term) -> Bool { self.term(at: index) == term }

    /// Raft §5.4.1: a candidate's log is at least as up to date as ours.
    func isUpToDate(lastIndex candidateIndex: LogIndex, term candidateTerm: Term) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// Appends leader entries after (`index`, `logTerm`) if our log matches there; returns the
    /// last index of the new entries, or nil on mismatch.
    mutating func maybeAppend(index: LogIndex, logTerm: Term, commit: LogIndex, entries: [Entry]) -> LogIndex? {
        guard matchTerm(index, logTerm) else { return nil }
        let lastNew = index.advanced(by: UInt64(entries.count))
        if let conflict = findConflict(entries) {
            if conflict <= committed && refusesCommittedConflicts { return nil }
            precondition(conflict > committed, "entry \(conflict) conflicts with committed entry (committed \(committed))")
            let skip = Int(conflict.rawValue - index.rawValue - 1)
            append(Array(entries[skip...]))
        }
        self.commit(to: min(commit, lastNew))
        return lastNew
    }

    /// The index of the first entry whose term differs from ours (or that we lack), or nil
    /// when we already hold all of them.
    func findConflict(_ entries: [Entry]) -> LogIndex? {
        for entry in entries where !matchTerm(entry.index, entry.term) {
            return entry.index
        }
        return nil
    }

    /// The largest index <= `index` whose term is <= `term`, with that term (etcd's
    /// findConflictByTerm). A follower uses it to hint where its log may match the leader's,
    /// skipping a whole term of mismatches per round trip instead of one entry.
    func findConflictByTerm(index start: LogIndex, term: Term) -> (index: LogIndex, term: Term) {
        var index = start
        while index > .zero {
            guard let ours = self.term(at: index) else { return (index, .zero) }
            if ours <= term { return (index, ours) }
            index = index.previous
        }
        return (.zero, .zero)
    }

    @discardableResult
    mutating func append(_ entries: [Entry]) -> LogIndex {
        guard let first = entries.first else { return lastIndex }
        precondition(first.index > committed, "appending \(first.index) would overwrite committed \(committed)")
        // Replaced entries were synced, their replacements are not.
        syncedIndex = min(syncedIndex, first.index.previous)
        unstable.truncateAndAppend(entries)
        return lastIndex
    }

    mutating func commit(to index: LogIndex) {
        guard index > committed else { return }
        precondition(index <= lastIndex, "commit \(index) beyond last index \(lastIndex)")
        committed = index
    }

    /// Commits `index` if it holds an entry of `term` (only current-term entries are committed
    /// by counting replicas, Raft §5.4.2); `anyTerm` plants the Figure 8 bug for tests.
    mutating func maybeCommit(index: LogIndex, term: Term, anyTerm: Bool) -> Bool {
        guard index > committed else { return false }
        guard anyTerm || self.term(at: index) == term else { return false }
        commit(to: index)
        return true
    }

    mutating func applied(to index: LogIndex) {
        guard index > applied else { return }
        precondition(index <= committed, "applied \(index) beyond committed \(committed)")
        applied = index
    }

    /// The last index that may be applied: committed and durable here.
    private var appliableIndex: LogIndex { min(committed, syncedLastIndex) }

    var hasCommittedEntriesToApply: Bool {
        appliableIndex > max(applied, firstIndex.previous) && unstable.snapshot == nil
    }

    /// Committed, durable, not yet applied entries, up to `committedEntriesBytesMax`.
    func committedEntriesToApply() -> [Entry] {
        guard hasCommittedEntriesToApply else { return [] }
        let lower = max(applied.next, firstIndex)
        return slice(from: lower, to: appliableIndex.next, maxBytes: committedEntriesBytesMax) ?? []
    }

    /// Entries from `lower` to the end, at most `maxBytes`; nil if `lower` was compacted.
    func entries(from lower: LogIndex, maxBytes: Int) -> [Entry]? {
        let last = lastIndex
        if lower > last { return [] }
        return slice(from: lower, to: last.next, maxBytes: maxBytes)
    }

    /// Entries in [lower, upper), at most `maxBytes` (at least one); nil if `lower` was compacted.
    func slice(from lower: LogIndex, to upper: LogIndex, maxBytes: Int) -> [Entry]? {
        precondition(lower <= upper && upper <= lastIndex.next, "slice [\(lower), \(upper)) beyond the log")
        if lower < firstIndex { return nil }
        if lower == upper { return [] }
        var result: [Entry] = []
        if lower < unstable.offset {
            let stableUpper = min(upper, unstable.offset)
            do {
                result = try storage.entries(from: lower, to: stableUpper, maxBytes: maxBytes)
            } catch RaftStorageError.compacted {
                return nil
            } catch {
                preconditionFailure("raft storage failed reading [\(lower), \(stableUpper)): \(error)")
            }
            // Storage stopped early because of the byte limit: the unstable part cannot follow.
            if result.count < Int(stableUpper.rawValue - lower.rawValue) { return result }
        }
        if upper > unstable.offset {
            result.append(contentsOf: unstable.slice(from: max(lower, unstable.offset), to: upper))
        }
        return limitSize(result, maxBytes: maxBytes)
    }

    /// The snapshot to send a follower that is behind the log start.
    func snapshot() throws -> Snapshot {
        if let snapshot = unstable.snapshot { return snapshot }
        return try storage.snapshot()
    }

    /// Replaces the log with `snapshot` (a follower installing a leader's snapshot).
    mutating func restore(_ snapshot: Snapshot) {
        committed = snapshot.metadata.index
        // The snapshot is persisted durably before it is advanced; nothing after it is synced.
        syncedIndex = snapshot.metadata.index
        unstable.restore(snapshot)
    }

    /// A snapshot handed to the application; applying it counts as applying up to its index.
    mutating func appliedSnapshot(_ snapshot: Snapshot) {
        if snapshot.metadata.index > applied { applied = snapshot.metadata.index }
    }
}
