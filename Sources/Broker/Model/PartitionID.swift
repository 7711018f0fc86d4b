import MOMCore

/// A partition's index within its topic or queue (0-based). A distinct type so that a
/// partition index is never confused with an offset or a group (STYLE.md habit 6).
struct PartitionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    let rawValue: UInt32
    init(_ rawValue: UInt32) { self.rawValue = rawValue }
    static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    var description: String { "\(rawValue)" }
}

/// The Raft group that holds the catalog (`__meta`). Partition groups are allocated after it.
let metaGroupID = GroupID(0)
