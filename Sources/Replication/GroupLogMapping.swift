import MOMCore

/// Raft index ↔ record offset: index i holds offset i − 1 (Raft counts from 1, offsets from 0).
public enum GroupLogMapping {
    @inlinable public static func offset(of index: LogIndex) -> Offset {
        precondition(index > .zero, "index 0 holds no entry")
        return Offset(index.rawValue - 1)
    }

    @inlinable public static func index(of offset: Offset) -> LogIndex { LogIndex(offset.rawValue + 1) }
}
