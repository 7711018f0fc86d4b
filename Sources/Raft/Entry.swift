import MOMCore

/// What an entry carries. A leader's no-op is `.normal` with empty data: it exists only so that a
/// new leader can commit an entry of its own term (Raft §5.4.2), which commits everything before it.
public enum EntryKind: UInt8, Sendable {
    case normal = 0
    /// `data` holds an encoded `ConfigChange`; it takes effect when the application has applied it.
    case configChange = 1
}

/// One slot of the replicated log.
public struct Entry: Equatable, Sendable {
    /// The leader term that created the entry; with `index`, it identifies the entry (Log Matching).
    public var term: Term
    /// Position in the log, from 1.
    public var index: LogIndex
    /// How to interpret `data`.
    public var kind: EntryKind
    /// Opaque to Raft: the application's command, or an encoded `ConfigChange`.
    public var data: [UInt8]

    /// An entry; leaders assign `term` and `index` when they append.
    public init(term: Term, index: LogIndex, kind: EntryKind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }

    /// The bytes this entry counts for in flow control and batching limits: payload plus a fixed
    /// header estimate, so that empty entries still cost something and batches stay bounded.
    public var sizeBytes: Int { data.count + Entry.headerBytes }

    /// A rough encoded header (term, index, kind, length); only used for budgeting.
    static let headerBytes = 16

    /// The payload bytes a proposal counts against the uncommitted limit (etcd's PayloadSize).
    var payloadBytes: Int { data.count }
}

extension Array where Element == Entry {
    /// Total `sizeBytes`, for flow control.
    var sizeBytes: Int { reduce(0) { $0 + $1.sizeBytes } }
    /// Total payload, for the uncommitted-bytes limit.
    var payloadBytes: Int { reduce(0) { $0 + $1.payloadBytes } }
}

/// Keeps a prefix of `entries` whose total size fits `maxBytes`, but always at least one entry so
/// that a single large entry can still make progress (etcd's limitSize).
func limitSize(_ entries: [Entry], maxBytes: Int) -> [Entry] {
    guard !entries.isEmpty else { return entries }
    var total = entries[0].sizeBytes
    var count = 1
    while count < entries.count {
        total += entries[count].sizeBytes
        if total > maxBytes { break }
        count += 1
    }
    return Array(entries.prefix(count))
}
