import MOMCore

/// Entries and a snapshot not yet written to stable storage (etcd's log_unstable.go). They are
/// handed to the application in a Ready and leave this struct when the Ready is advanced.
struct UnstableLog {
    /// An incoming snapshot not yet persisted. Invariant: when set, `offset == snapshot.index + 1`.
    private(set) var snapshot: Snapshot?
    /// Entries not yet persisted. Invariant: `entries[i].index == offset + i`, and their terms
    /// never decrease.
    private(set) var entries: [Entry] = []
    /// The index of `entries[0]`, or where the next entry would go. Invariant: `offset >= 1` and
    /// `offset - 1` is the last index of stable storage or of `snapshot`.
    private(set) var offset: LogIndex

    init(offset: LogIndex) {
        precondition(offset.rawValue >= 1, "unstable offset starts at 1")
        self.offset = offset
    }

    /// The first index, if only the unstable snapshot knows it.
    var firstIndexIfKnown: LogIndex? { snapshot.map { $0.metadata.index.next } }

    /// The last index, if the unstable part knows it.
    var lastIndexIfKnown: LogIndex? {
        if let last = entries.last { return last.index }
        return snapshot?.metadata.index
    }

    /// The term at `index`, if the unstable part knows it.
    func term(at index: LogIndex) -> Term? {
        if index < offset {
            guard let snapshot, snapshot.metadata.index == index else { return nil }
            return snapshot.metadata.term
        }
        guard let last = lastIndexIfKnown, index <= last else { return nil }
        return entries[Int(index.rawValue - offset.rawValue)].term
    }

    /// The last index persisted: everything up to it is durable and current (stable entries
    /// beyond it, if any, are being overwritten). Nil while a snapshot is pending.
    var stableLastIndex: LogIndex? { snapshot == nil ? offset.previous : nil }

    /// The application persisted entries up to (`index`, `term`). A mismatched term means the
    /// entries were replaced meanwhile, and the new ones are still unstable.
    mutating func stableTo(index: LogIndex, term: Term) {
        guard let known = self.term(at: index), known == term, index >= offset else { return }
        let count = Int(index.rawValue - offset.rawValue) + 1
        entries.removeFirst(count)
        offset = index.next
    }

    /// The application persisted the snapshot at `index`.
    mutating func stableSnapshotTo(index: LogIndex) {
        if snapshot?.metadata.index == index { snapshot = nil }
    }

    mutating func restore(_ incoming: Snapshot) {
        offset = incoming.metadata.index.next
        entries = []
        snapshot = incoming
    }

    /// Appends `incoming`, replacing any overlapping suffix (a follower resolving a conflict).
    mutating func truncateAndAppend(_ incoming: [Entry]) {
        guard let first = incoming.first?.index else { return }
        let end = offset.advanced(by: UInt64(entries.count))
        if first == end {
            entries.append(contentsOf: incoming)
        } else if first <= offset {
            // Replaces everything unstable; the stable tail beyond `first` is overwritten when
            // the application appends these entries.
            offset = first
            entries = incoming
        } else {
            precondition(first < end, "append at \(first) leaves a gap after \(end)")
            entries.removeSubrange(Int(first.rawValue - offset.rawValue)...)
            entries.append(contentsOf: incoming)
        }
    }

    /// Entries in [lower, upper), which must lie within the unstable entries.
    func slice(from lower: LogIndex, to upper: LogIndex) -> ArraySlice<Entry> {
        let end = offset.advanced(by: UInt64(entries.count))
        precondition(offset <= lower && lower <= upper && upper <= end, "unstable slice [\(lower), \(upper)) out of [\(offset), \(end))")
        return entries[Int(lower.rawValue - offset.rawValue)..<Int(upper.rawValue - offset.rawValue)]
    }
}
