import MOMCore

/// Where a snapshot sits in the log, and the membership in force at that point.
public struct SnapshotMetadata: Equatable, Sendable {
    /// The last index the snapshot covers.
    public var index: LogIndex
    /// The term of the entry at `index`, for the log-matching check after it.
    public var term: Term
    /// The membership in force at `index`.
    public var configuration: Configuration

    /// Metadata; index zero means no snapshot.
    public init(index: LogIndex = .zero, term: Term = .zero, configuration: Configuration = Configuration()) {
        self.index = index
        self.term = term
        self.configuration = configuration
    }
}

/// The state machine's image at `metadata.index`. The log starts after it: a follower that is
/// too far behind the leader's log start receives one instead of entries.
public struct Snapshot: Equatable, Sendable {
    /// Where the snapshot sits in the log.
    public var metadata: SnapshotMetadata
    /// The state machine image, opaque to Raft.
    public var data: [UInt8]

    /// A snapshot of `data` at `metadata`.
    public init(metadata: SnapshotMetadata = SnapshotMetadata(), data: [UInt8] = []) {
        self.metadata = metadata
        self.data = data
    }

    /// Index zero means "no snapshot".
    public var isEmpty: Bool { metadata.index == .zero }
}
